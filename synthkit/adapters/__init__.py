"""Data adapters: the one place where user data becomes model arrays and back.

Rules every plugin can rely on:

- Tables (a pandas DataFrame, or a 2-D array treated as numeric columns) become 2-D float32 arrays:
  numeric columns standardised with the training mean and standard deviation (non-negative
  columns with skewness above 2, such as amounts and counts, are first log-transformed with
  ``log1p``, so that a long tail does not swamp every other feature), booleans as 0/1 (an object
  column of True/False values, with missing ones as CSV readers give them, is boolean too),
  categorical columns (object, string or category dtype) one-hot encoded over the training levels
  (unseen levels encode as all zeros; a column with more than ``MAX_LEVELS`` levels keeps the most
  frequent and pools the rest, and unseen ones, into one "other" level). A DataFrame's empty,
  one-valued and identifier columns are left out and its text dates become numbers
  (``synthkit.adapters._triage``; ``TableAdapter.notes`` says what was done).
- Images (arrays of shape (n, h, w) or (n, h, w, c)) become 4-D float32 arrays in [0, 1]: integer
  images, and float images whose maximum exceeds 1, are divided by 255; other float images are
  taken as already in [0, 1]. The scale is decided for each array given (``image_scale``), at fit
  and after, so uint8 and float images of the same pictures adapt alike whatever the model was
  fitted on; values are clipped to [0, 1]. ``inverse_transform(Z, like=X)`` returns images in the
  dtype, scale and shape of ``X`` (what ``denoise`` and ``reconstruct`` give back); without
  ``like``, in the training images' (what ``sample`` gives).
- Missing values and infinities follow the ``missing`` policy chosen at fit: ``"error"`` (the
  adapter's own default: a clear error naming the columns), ``"impute"`` (median for numeric, most frequent level
  for categorical and boolean columns, learned at fit), ``"drop"`` (rows are left out of fitting
  and get no score) or ``"model"`` (tables: missing values are
  data. A numeric or boolean column with missing values at fit gets one more encoded column, a
  boolean flag "value missing", and its value is encoded with the median or most frequent value
  filled in, its statistics fitted on the present values; a categorical column gets one more
  level, missing. ``inverse_transform`` puts missing values back where a flag is on (> 0.5) or
  the missing level is chosen, in the column's training dtype and with the marker its missing
  values had (None or NaN in object columns), so a generator reproduces which columns go missing
  and how often. Infinities are still an error, and so are missing pixels; a column without
  missing values at fit imputes those new rows bring). Detectors take all four; the built-in
  generators and detectors default to ``"model"``.

- Sparse matrices and arrays (scipy.sparse, as ``OneHotEncoder`` gives them in a Pipeline) are
  densified, up to ``MAX_SPARSE_VALUES`` values; larger ones are refused in one line. A 2-D array
  of dtype object is read as numbers where every value is one.

``inverse_transform`` decodes model arrays back to the input's columns, dtypes and levels:
numeric values are clipped to the training range, integer columns rounded, and float columns
rounded to the decimals their training values have (``decimals``: the fewest, 0 to
``MAX_DECIMALS``, that hold every value; None, no rounding, for values with more, and for schemas
saved before it was learned). A float column with more decimals snaps each value that lies within
float32 precision of one of its spikes (``atoms``: values at least 1% of its training rows hold)
to that value exactly, so a spike at 0 comes back as 0.

Modules: ``_make`` (which adapter), ``_tables`` (``TableAdapter``), ``_triage`` (a dirty table's
columns), ``_images`` (``ImageAdapter``), ``_arrays`` (dense, numeric, 2-D arrays), ``_labels``
(the one rule for labels) and ``_image_sizes`` (image models' sizes).
"""

from synthkit.adapters._arrays import MAX_SPARSE_VALUES, as_array, as_dense
from synthkit.adapters._image_sizes import latent_size, scaled_epochs, strided_layers
from synthkit.adapters._images import ImageAdapter, image_scale
from synthkit.adapters._labels import label_index, label_key, label_mask, require_label_column
from synthkit.adapters._make import adapter_from_dict, make_adapter
from synthkit.adapters._tables import MAX_DECIMALS, MAX_LEVELS, MISSING_LEVEL, TableAdapter

__all__ = [
    "MAX_DECIMALS",
    "MAX_LEVELS",
    "MAX_SPARSE_VALUES",
    "MISSING_LEVEL",
    "ImageAdapter",
    "TableAdapter",
    "adapter_from_dict",
    "as_array",
    "as_dense",
    "image_scale",
    "label_index",
    "label_key",
    "label_mask",
    "latent_size",
    "make_adapter",
    "require_label_column",
    "scaled_epochs",
    "strided_layers",
]
