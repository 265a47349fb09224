"""Files in and out: inputs read as tables or images, outputs written atomically, model directories.

``_reading`` reads a path or a dataset name into ``Data``; ``_cells`` says which CSV text is read
as missing and which column names a table may have; ``_outputs`` checks an output before a run and
removes what a failed run began; ``_writing`` writes through a temporary file renamed into place,
every CSV cell alike; ``_image_folders`` reads and writes folders of PNG and JPEG images; ``_model_dirs`` saves and
loads model directories (a JSON manifest and non-executable state).
"""

from synthkit.io._cells import MISSING_TEXT, reading_missing_as
from synthkit.io._image_folders import (
    check_image_folder_output,
    is_folder_output,
    read_image_folder,
    write_image_folder,
)
from synthkit.io._model_dirs import load_model, model_for, save_model
from synthkit.io._outputs import (
    check_distinct,
    check_output,
    check_output_dir,
    removed_on_failure,
)
from synthkit.io._reading import Data, as_data, read_idx, read_input
from synthkit.io._writing import atomic_path, save_figure, write_npz, write_table

__all__ = [
    "MISSING_TEXT",
    "Data",
    "as_data",
    "atomic_path",
    "check_distinct",
    "check_image_folder_output",
    "check_output",
    "check_output_dir",
    "is_folder_output",
    "load_model",
    "model_for",
    "read_idx",
    "read_image_folder",
    "read_input",
    "reading_missing_as",
    "removed_on_failure",
    "save_figure",
    "save_model",
    "write_image_folder",
    "write_npz",
    "write_table",
]
