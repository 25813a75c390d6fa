"""The report's plots, as PNG bytes (matplotlib's object API with the Agg canvas: no pyplot
state, no display needed).

* :func:`scatter_png`: MOS against each signal (a multi-column signal's out-of-fold
  prediction), with the fitted 4-parameter logistic;
* :func:`redundancy_png`: the Spearman matrix as a heatmap, each cell's number in black or white
  by the cell colour's luminance (:func:`~second_opinion.html_page.text_colour`), so it reads
  on every colour;
* :func:`comparison_png`: with ``compare_all``, every pair's median ΔSRCC (row − column) as a
  heatmap on a diverging scale, bold where the paired Wilcoxon p < 0.05;
* :func:`distribution_png`: per signal, its per-split SRCC and PLCC (in its direction) as box
  plots with every split as a point;
* :func:`gain_png`: per second opinion, the per-split ΔSRCC and ΔPLCC of baseline + it over the
  baseline alone, drawn the same way (boxes: quartiles; whiskers: 2.5th-97.5th percentiles).

matplotlib is the 'plots' extra: without it each function raises :class:`MissingExtraError`,
which the HTML report turns into a note in the plot's place.

The scatter and gain plots are drawn :data:`FULL_WIDTH` inches wide, the page's width at
:data:`DPI`, so the HTML shows them at full width without scaling their text up.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from second_opinion.audit.compare import orientation
from second_opinion.audit.compare_render import matrix
from second_opinion.audit.document import p_text
from second_opinion.audit.metrics import fit_logistic
from second_opinion.errors import InputError, MissingExtraError
from second_opinion.html_page import text_colour

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from second_opinion.audit.analysis import CorpusResult, FloatArray, Gain, Redundancy
    from second_opinion.audit.compare import CorpusComparisons

DPI = 96
COLUMNS = 4
FULL_WIDTH = 11.5
"""Inches: the report page's width (80em of 14px) at :data:`DPI`."""
WHISKERS = "points: splits; boxes: quartiles; whiskers: 2.5th-97.5th percentile of the splits"
SIGNIFICANT = 0.05
"""The comparison heatmap sets a cell in bold when its paired Wilcoxon p is below this."""


def _figure(width: float, height: float) -> Figure:
    """An empty figure on the Agg canvas; without the 'plots' extra, :class:`MissingExtraError`."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow import
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError:
        feature = "Drawing the audit's plots"
        raise MissingExtraError(feature, "plots", "matplotlib") from None

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def scatter_png(result: CorpusResult) -> bytes:
    """MOS vs each signal of a corpus, with the fitted logistic."""
    signals = result.signals
    columns = min(COLUMNS, len(signals))
    rows = math.ceil(len(signals) / columns)
    figure = _figure(FULL_WIDTH, 3.2 * rows)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel()[len(signals) :]:
        ax.set_visible(False)
    for ax, signal in zip(axes.ravel(), signals, strict=False):
        x, y = signal.prediction, signal.mos
        keep = np.isfinite(x)
        ax.scatter(
            x[keep], y[keep], s=14, alpha=0.7, color="C0", edgecolors="white", linewidths=0.3
        )
        try:
            fit = fit_logistic(x, y)
        except InputError:
            fit = None
        if fit is not None and keep.sum() > 1 and np.ptp(x[keep]) > 0:
            grid = np.linspace(float(np.min(x[keep])), float(np.max(x[keep])), 200)
            label = "logistic" if fit.fitted else "linear (logistic failed)"
            ax.plot(grid, fit.predict(grid), color="C3", linewidth=1.5, label=label)
            ax.legend(loc="best", fontsize=7, frameon=False)
        what = "score" if signal.signal.training_free else "out-of-fold prediction"
        ax.set_title(f"{signal.signal.name}  SRCC {signal.full.srcc:.3f}", fontsize=9)
        ax.set_xlabel(what, fontsize=8)
        ax.set_ylabel(result.corpus.mos_column, fontsize=8)
        ax.tick_params(labelsize=7)
    figure.suptitle(f"{result.corpus.name}: MOS vs each signal", fontsize=10)
    return _png(figure)


def _heatmap(
    matrix: FloatArray,
    labels: tuple[str, ...],
    title: str,
    *,
    limit: float,
    legend: str,
    bold: npt.NDArray[np.bool_],
) -> bytes:
    """A k × k matrix as a heatmap on a diverging scale from −``limit`` to ``limit``, each cell
    annotated (up to 15 × 15) in black or white by its colour, in bold where ``bold`` is set."""
    k = len(labels)
    size = max(3.0, 0.6 * k + 2.0)
    figure = _figure(size + 1.0, size)
    ax = figure.subplots()
    values = np.asarray(matrix, dtype=np.float64)
    image = ax.imshow(values, vmin=-limit, vmax=limit, cmap="RdBu_r")
    ax.set_xticks(range(k), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    if k <= 15:
        colours = np.asarray(image.cmap(image.norm(values)))
        for i in range(k):
            for j in range(k):
                value = float(values[i, j])
                finite = np.isfinite(value)
                red, green, blue = (float(c) for c in colours[i, j, :3]) if finite else (1, 1, 1)
                ax.text(
                    j,
                    i,
                    f"{value:.2f}" if finite else "—",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_colour((red, green, blue)),
                    fontweight="bold" if finite and bold[i, j] and i != j else "normal",
                )
    figure.colorbar(image, ax=ax, shrink=0.8, label=legend)
    ax.set_title(title, fontsize=10)
    return _png(figure)


def redundancy_png(redundancy: Redundancy, title: str) -> bytes:
    """The Spearman matrix between signals, annotated; flagged pairs in bold."""
    rho = np.asarray(redundancy.rho, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        flagged = np.abs(rho) > redundancy.threshold
    return _heatmap(rho, redundancy.signals, title, limit=1.0, legend="Spearman ρ", bold=flagged)


def comparison_png(found: CorpusComparisons, title: str) -> bytes:
    """Every pair's median ΔSRCC (row − column) as a heatmap; bold where the paired Wilcoxon p
    is below 0.05."""
    medians = matrix(found, "srcc", "median")
    ps = matrix(found, "srcc", "p")
    finite = np.abs(medians[np.isfinite(medians)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    with np.errstate(invalid="ignore"):
        significant = ps < SIGNIFICANT
    legend = "median ΔSRCC, row − column"
    return _heatmap(medians, found.signals, title, limit=limit, legend=legend, bold=significant)


def _boxes(ax: Axes, groups: list[FloatArray], positions: FloatArray, colour: str) -> None:
    """Box plots (median, quartiles, whiskers at the 2.5th and 97.5th percentiles, interpolated
    as the tables' intervals are) with every value as a point, jittered sideways by a fixed draw
    so the same data give the same picture."""
    finite = [g[np.isfinite(g)] for g in groups]
    stats = []
    for values in finite:
        shown = values if values.size else np.array([np.nan])
        low, q1, median, q3, high = np.quantile(shown, [0.025, 0.25, 0.5, 0.75, 0.975])
        stats.append(
            {"med": median, "q1": q1, "q3": q3, "whislo": low, "whishi": high, "fliers": []}
        )
    ax.bxp(
        stats,
        positions=positions,
        widths=0.3,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": colour, "alpha": 0.35},
        medianprops={"color": "black"},
        manage_ticks=False,
    )
    jitter = np.random.default_rng(0)
    for position, values in zip(positions, finite, strict=True):
        x = position + jitter.uniform(-0.1, 0.1, values.size)
        ax.scatter(x, values, s=8, alpha=0.6, color=colour, edgecolors="none")


def distribution_png(result: CorpusResult, title: str) -> bytes:
    """Per signal, the distribution of its per-split SRCC and PLCC (in its direction)."""

    signals = result.signals
    figure = _figure(FULL_WIDTH, 3.8)
    ax = figure.subplots()
    positions = np.arange(len(signals), dtype=np.float64)
    for offset, metric, colour in ((-0.18, "srcc", "C0"), (0.18, "plcc", "C1")):
        groups = [getattr(s.splits, metric) * orientation(s.splits, metric) for s in signals]
        _boxes(ax, groups, positions + offset, colour)
        ax.plot([], [], color=colour, linewidth=6, alpha=0.5, label=metric.upper())
    ax.set_xticks(positions, [s.signal.name for s in signals], fontsize=8, rotation=20)
    ax.set_ylabel("per split, in the signal's direction", fontsize=8)
    ax.set_xlabel(WHISKERS, fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title, fontsize=10)
    return _png(figure)


def gain_png(gain: Gain, title: str) -> bytes:
    """Per second opinion, the per-split ΔSRCC and ΔPLCC over the baseline: boxes (quartiles,
    whiskers at the 2.5th and 97.5th percentiles) with every split as a point."""
    entries = [*gain.entries, *([gain.combined] if gain.combined else [])]
    figure = _figure(FULL_WIDTH, 3.6)
    ax = figure.subplots()
    positions = np.arange(len(entries), dtype=np.float64)
    for offset, metric, colour in ((-0.18, "srcc", "C0"), (0.18, "plcc", "C1")):
        groups = [e.delta_srcc if metric == "srcc" else e.delta_plcc for e in entries]
        _boxes(ax, groups, positions + offset, colour)
        ax.plot([], [], color=colour, linewidth=6, alpha=0.5, label=f"Δ{metric.upper()}")
    ax.axhline(0.0, color="black", linewidth=0.8)
    labels = [f"+ {e.name}\nWilcoxon p (ΔSRCC) {p_text(e.wilcoxon_p)}" for e in entries]
    ax.set_xticks(positions, labels, fontsize=8)
    ax.set_ylabel(f"per-split Δ vs {gain.baseline.name} alone", fontsize=8)
    ax.set_xlabel(f"{WHISKERS}; p: paired Wilcoxon signed-rank over splits", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title, fontsize=10)
    return _png(figure)
