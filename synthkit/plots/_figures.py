"""Plots (matplotlib, Agg backend): sample grids and detection diagnostics, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthkit.evaluation.images import as_unit_images


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, labels=None, per_row: int = 10, title: str | None = None):
    """Images of any size, grey or colour, on one scale; with labels, a row per class (``per_row`` each).

    ``title`` heads the figure; None gives one that says what is drawn (``grid_title``: how many
    images, their label or labels, how many of them are shown), ``""`` none."""
    plt = _pyplot()
    total = len(images)
    images = as_unit_images(images) if len(images) else np.zeros((0, 1, 1), np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if labels is not None:
        labels = np.asarray(labels)
        classes = list(dict.fromkeys(labels.tolist()))
        rows = [(str(c), np.flatnonzero(labels == c)[:per_row]) for c in classes]
    else:
        idx = np.arange(min(len(images), per_row * 10))
        rows = [("", idx[i : i + per_row]) for i in range(0, len(idx), per_row)]
    fig, axes = plt.subplots(
        len(rows), per_row, figsize=(per_row * 0.9, len(rows) * 0.9 + 0.3), squeeze=False
    )
    for r, (name, idx) in enumerate(rows):
        for c in range(per_row):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(idx):
                ax.imshow(
                    images[idx[c]], cmap="gray" if images.ndim == 3 else None, vmin=0.0, vmax=1.0
                )
        if name:
            axes[r, 0].set_title(name, fontsize=8, loc="left")
    if title is None:
        title = grid_title(total, labels, sum(len(idx) for _, idx in rows))
    if title:
        fig.suptitle(title)
    return fig


def grid_title(total: int, labels=None, shown: int | None = None) -> str:
    """What an image grid draws: "20 images labelled 7", "100 images, 10 labels (0, 1, ..., 9), a
    row each", "12 of 200 images shown"."""
    shown = total if shown is None else shown
    what = f"{total:,} image{'s' if total != 1 else ''}"
    if labels is not None and len(labels):
        classes = list(dict.fromkeys(np.asarray(labels).tolist()))
        if len(classes) == 1:
            what += f" labelled {classes[0]}"
        else:
            names = [str(c) for c in classes]
            listed = ", ".join(names if len(names) <= 6 else names[:3] + ["...", names[-1]])
            what += f", {len(classes)} labels ({listed}), a row each"
    if shown < total:
        what += f"; {shown:,} shown"
    return what


def score_histogram(scores, threshold: float | None, truth=None, title: str | None = None):
    """Histogram of anomaly scores with the threshold marked (split by known label if given).

    The legend names the classes (with their counts) and the threshold (its value and how many
    scores lie above it); ``title`` heads the plot (None: "anomaly scores of N rows")."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    scores = np.asarray(scores, dtype=float)
    bins = np.histogram_bin_edges(scores[np.isfinite(scores)], bins=50)
    if truth is not None:
        truth = np.asarray(truth).astype(int)
        for value, name in ((0, "normal"), (1, "anomaly")):
            part = scores[truth == value]
            ax.hist(part, bins=bins, alpha=0.6, label=f"{name} ({len(part):,})")
    else:
        ax.hist(scores, bins=bins)
    if threshold is not None:
        above = int(np.count_nonzero(scores > threshold))
        ax.axvline(
            threshold,
            color="red",
            linestyle="--",
            label=f"threshold {threshold:.4g} ({above:,} above)",
        )
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=8)
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("count")
    ax.set_yscale("log")
    ax.set_title(f"anomaly scores of {len(scores):,} rows" if title is None else title)
    return fig


def tsne_plot(
    codes,
    labels=None,
    seed: int = 0,
    max_points: int = 2000,
    title: str | None = None,
    what: str = "bottleneck codes",
    unit: str = "rows",
):
    """2-D t-SNE of feature vectors (e.g. autoencoder codes), coloured by label when given.

    At most ``max_points`` rows (a seeded random subset) are embedded, to keep it quick; the title
    says so: "t-SNE of 2,000 of 10,000 rows (random sample, seed 0)", then ``what`` was embedded
    (``unit`` names the rows: "rows", "images"). A ``title`` given comes first, the sample after it.
    """
    from sklearn.manifold import TSNE

    plt = _pyplot()
    codes = np.asarray(codes, dtype=np.float32).reshape(len(codes), -1)
    idx = np.arange(len(codes))
    if len(codes) > max_points:
        idx = np.sort(np.random.default_rng(seed).permutation(len(codes))[:max_points])
    sample = (
        f"{len(idx):,} of {len(codes):,} {unit} (random sample, seed {seed})"
        if len(idx) < len(codes)
        else f"all {len(codes):,} {unit}"
    )
    if title is None:
        coloured = ", coloured by label" if labels is not None else ""
        title = f"t-SNE of {sample}\n{what}{coloured}"
    else:
        title = f"{title}\n{sample}"
    emb = TSNE(
        n_components=2,
        perplexity=float(min(30, max(2, (len(idx) - 1) // 3))),
        init="pca",
        random_state=seed,
    ).fit_transform(codes[idx])
    fig, ax = plt.subplots(figsize=(6, 5.5))
    if labels is not None:
        labels = np.asarray(labels)[idx]
        classes = list(dict.fromkeys(sorted(labels.tolist(), key=str)))
        cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        for i, c in enumerate(classes):
            m = labels == c
            ax.scatter(emb[m, 0], emb[m, 1], s=5, color=cmap(i % cmap.N), label=str(c))
        ax.legend(markerscale=3, fontsize=7, loc="best", title="label")
    else:
        ax.scatter(emb[:, 0], emb[:, 1], s=5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return fig


def cluster_representatives(images, distances, per_row: int = 10):
    """One row per cluster: the ``per_row`` images nearest its centroid.

    ``distances`` is (n, n_clusters), e.g. ``KMeansDetector._distances`` of the adapted images.
    """
    distances = np.asarray(distances)
    assign = distances.argmin(axis=1)
    images = np.asarray(images)
    order, labels = [], []
    for k in range(distances.shape[1]):
        members = np.flatnonzero(assign == k)
        nearest = members[np.argsort(distances[members, k], kind="stable")][:per_row]
        order += nearest.tolist()
        labels += [f"cluster {k} ({len(members)})"] * len(nearest)
    if not order:
        return image_grid(images[:0], per_row=per_row, title="K-Means cluster representatives")
    return image_grid(
        images[order],
        labels=np.asarray(labels),
        per_row=per_row,
        title="K-Means cluster representatives (nearest to each centroid)",
    )


def table_figure(
    frame, title: str | None = None, max_rows: int = 20, max_cols: int = 12, lead: int = 0
):
    """A table of rows as an image (numbers rounded, long text cut).

    At most ``max_rows`` rows and the first ``max_cols`` columns; when columns are left out the
    title says how many are shown ("the first 11 of 30 columns shown"), not counting the ``lead``
    columns in front (a score, a cluster number) that are not the data's."""
    plt = _pyplot()
    if len(frame.columns) > max_cols:
        title = "\n".join(
            filter(
                None,
                [
                    title,
                    f"the first {max_cols - lead} of {len(frame.columns) - lead} columns shown",
                ],
            )
        )
    frame = frame.iloc[:max_rows, :max_cols]
    cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    fig, ax = plt.subplots(figsize=(min(1.3 * len(frame.columns) + 1, 18), 0.3 * len(frame) + 1))
    ax.axis("off")
    if cells:
        table = ax.table(
            cellText=cells,
            colLabels=[str(c) for c in frame.columns],
            rowLabels=[str(i) for i in frame.index],
            loc="center",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1, 1.2)
    if title:
        ax.set_title(title)
    return fig


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 14 else text[:13] + "…"


def most_anomalous(
    scores, images=None, frame=None, n: int = 20, explanation=None, max_cols: int = 12
):
    """The ``n`` highest-scoring inputs: an image grid (score above each) or a table of rows.

    A table shows ``anomaly_score`` and as many of the frame's columns as fit ``max_cols``; when
    some are left out, the title says how many are shown of how many. With ``explanation``
    (``detector.explain`` of these rows, or any of them) the columns shown are the ones with the
    largest part in those rows' scores (columns the detector does not score, such as a label,
    first); without, the first ones."""
    scores = np.asarray(scores, dtype=float)
    top = np.argsort(-np.where(np.isnan(scores), -np.inf, scores), kind="stable")[:n]
    if images is not None:
        plt = _pyplot()
        images = np.asarray(images)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        per_row = min(10, max(len(top), 1))
        rows = max(1, int(np.ceil(len(top) / per_row)))
        fig, axes = plt.subplots(
            rows, per_row, figsize=(per_row * 1.0, rows * 1.15 + 0.4), squeeze=False
        )
        for ax in axes.ravel():
            ax.axis("off")
        for j, i in enumerate(top):
            ax = axes[j // per_row, j % per_row]
            ax.imshow(images[i], cmap="gray" if images.ndim == 3 else None)
            ax.set_title(f"#{i}\n{scores[i]:.3g}", fontsize=6)
        fig.suptitle(f"the {len(top)} most anomalous inputs (index, score)")
        return fig
    view = frame.iloc[top].drop(columns=["anomaly_score"], errors="ignore")
    columns, note = shown_columns(list(view.columns), explanation, max(max_cols - 1, 1))
    view = view[columns].copy()
    view.insert(0, "anomaly_score", scores[top])
    title = f"the {len(top)} most anomalous rows" + (f"\n{note}" if note else "")
    return table_figure(view, title=title, max_rows=n, max_cols=len(view.columns))


def shown_columns(columns: list, explanation=None, room: int = 11) -> tuple[list, str]:
    """(the ``room`` columns to show, a note saying which when some are left out, else "").

    With ``explanation`` (per-column contributions, e.g. ``detector.explain``): the columns it does
    not score first (a label, an identifier; at most a quarter of the room), then the scored ones
    by their positive contributions summed over its rows, largest first. Without: the first ones."""
    if len(columns) <= room:
        return list(columns), ""
    rest = "the rest are in the scores output"
    if explanation is None:
        return list(columns[:room]), f"the first {room} of {len(columns)} columns shown; {rest}"
    values = explanation.to_numpy(dtype=np.float64, na_value=np.nan)
    weight = np.where(np.isfinite(values) & (values > 0), values, 0.0).sum(axis=0)
    part = {str(c): w for c, w in zip(explanation.columns, weight)}
    scored = [c for c in columns if str(c) in part]
    unscored = [c for c in columns if str(c) not in part][: max(room // 4, 0)]
    ranked = sorted(scored, key=lambda c: -part[str(c)])  # stable: ties keep the frame's order
    top = ranked[: room - len(unscored)]
    which = f"the {len(top)} with the largest part in these rows' scores"
    if unscored:
        which = f"{', '.join(str(c) for c in unscored)} and {which}"
    return (
        unscored + top,
        f"{len(unscored) + len(top)} of {len(columns)} columns shown: {which}; {rest}",
    )


def explanation_bars(explanation, scores=None, n: int = 10, top: int = 8):
    """The ``n`` most anomalous rows (by ``scores``, else by their contributions' sum), one panel
    each: horizontal bars of their ``top`` largest contributions (``detector.explain``)."""
    plt = _pyplot()
    values = explanation.to_numpy(dtype=np.float64, na_value=np.nan)
    rank = np.nansum(values, axis=1) if scores is None else np.asarray(scores, dtype=np.float64)
    rows = np.argsort(-np.where(np.isfinite(rank), rank, -np.inf), kind="stable")[:n]
    cols = min(2, max(len(rows), 1))
    fig, axes = plt.subplots(
        max(1, -(-len(rows) // cols)),
        cols,
        squeeze=False,
        figsize=(5.0 * cols, 0.25 * top * max(1, -(-len(rows) // cols)) + 0.8),
    )
    for ax in axes.ravel():
        ax.axis("off")
    names = np.asarray([str(c) for c in explanation.columns], dtype=object)
    for ax, i in zip(axes.ravel(), rows):
        row = np.nan_to_num(values[i])
        best = np.argsort(-row, kind="stable")[:top][::-1]
        ax.axis("on")
        ax.barh(
            np.arange(len(best)), row[best], color=np.where(row[best] >= 0, "tab:red", "tab:blue")
        )
        ax.set_yticks(
            np.arange(len(best)),
            [v if len(v) <= 24 else v[:23] + "…" for v in names[best]],
            fontsize=7,
        )
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"row {explanation.index[i]}: score {rank[i]:.3g}", fontsize=8, loc="left")
    fig.suptitle(
        f"why the {len(rows)} most anomalous rows were flagged (each column's part of the score)"
    )
    fig.tight_layout()
    return fig


def explanation_plot(explanation, folder, scores=None, n: int = 10, top: int = 8) -> str:
    """Write ``explanations.png`` (``explanation_bars``) into ``folder``; return its path."""
    from synthkit.io._writing import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = explanation_bars(explanation, scores, n=n, top=top)
    save_figure(fig, folder / "explanations.png")
    _pyplot().close(fig)
    return str(folder / "explanations.png")
