"""Sample grids and detection diagnostics, saved as PNG.

``_figures`` draws one figure each (a grid of images, a histogram of scores, a t-SNE map, the most
anomalous rows, explanation bars); ``_detection`` runs a detection and saves the figures that fit
the data into a folder (``detection_plots``).
"""

from synthkit.plots._detection import DETECTION_PLOTS, detection_plots
from synthkit.plots._figures import (
    cluster_representatives,
    explanation_bars,
    explanation_plot,
    image_grid,
    most_anomalous,
    score_histogram,
    table_figure,
    tsne_plot,
)

__all__ = [
    "DETECTION_PLOTS",
    "cluster_representatives",
    "detection_plots",
    "explanation_bars",
    "explanation_plot",
    "image_grid",
    "most_anomalous",
    "score_histogram",
    "table_figure",
    "tsne_plot",
]
