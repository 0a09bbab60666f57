"""Pictures of a run: a grid of model samples, 2-D samples over data, an energy landscape, the
training curves, spin-lattice snapshots and measured observables beside exact curves
(matplotlib, Agg)."""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

_DPI = 120


def sample_grid(images: torch.Tensor, shape: tuple[int, int], path: str, title: str = "",
                cols: int | None = None) -> None:
    """Save images [n, h·w] (values in [0, 1]) as a grid PNG of ``cols`` columns (default: near
    square)."""
    n = len(images)
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w = shape
    canvas = torch.zeros(rows * (h + 1) - 1, cols * (w + 1) - 1)  # white gaps (gray_r)
    for i, img in enumerate(images.detach().cpu().float()):
        r, c = divmod(i, cols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = img.view(h, w)
    fig, ax = plt.subplots(figsize=(6, 6 * canvas.shape[0] / canvas.shape[1]))
    ax.imshow(canvas.numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    save_figure(fig, path, title)


def labelled_rows(rows: list[torch.Tensor], labels: list[str], shape: tuple[int, int], path: str,
                  title: str = "") -> None:
    """Save image rows (each [n, h·w], values in [0, 1]) one above the other, each labelled on
    its left (e.g. known / inpainted / truth); every cell is at least 24 px tall."""
    n = max(len(r) for r in rows)
    cell = max(0.45, 24 / _DPI)  # inches per image
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 + n * cell, 0.9 + len(rows) * cell),
                             squeeze=False)
    for r, (images, label) in enumerate(zip(rows, labels)):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(images[c].detach().cpu().float().view(*shape).numpy(), cmap="gray_r",
                          vmin=0, vmax=1, interpolation="nearest")
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    fig.subplots_adjust(wspace=0.08, hspace=0.08)
    save_figure(fig, path, title)


def point_samples(samples: torch.Tensor, data: torch.Tensor, path: str, title: str = "",
                  box: tuple[float, float] = (-3.0, 3.0)) -> None:
    """Save 2-D samples [n, 2] (blue) over data points [m, 2] (gray) in the square ``box``."""
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.scatter(*data.detach().cpu().double().T.numpy(), s=2, c="0.7", label="data")
    ax.scatter(*samples.detach().cpu().double().T.numpy(), s=2, c="tab:blue", label="samples")
    ax.set_xlim(*box)
    ax.set_ylim(*box)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=4)
    save_figure(fig, path, title)


def energy_landscape(energy, path: str, title: str = "", box: tuple[float, float] = (-3.0, 3.0),
                     resolution: int = 200) -> None:
    """Save the energy E(x) of 2-D points (``energy``: [n, 2] -> [n]) over a grid of the square
    ``box``, and its Boltzmann density exp(-E) normalised on the grid."""
    axis = torch.linspace(box[0], box[1], resolution)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        e = energy(grid).double().reshape(resolution, resolution)
    density = torch.softmax(-e.flatten(), 0).reshape(resolution, resolution)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, values, name in ((axes[0], e, "energy E(x)"), (axes[1], density, "exp(-E(x)) / Z")):
        shown = ax.imshow(values.numpy(), origin="lower", extent=(*box, *box), cmap="viridis")
        fig.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(name)
    save_figure(fig, path, title)


def training_curves(history: list[dict], path: str, title: str = "",
                    references: dict[str, dict[str, float]] | None = None) -> None:
    """Save one panel per metric in ``history`` (a list of per-epoch dicts) against epoch;
    ``references`` {history key: {label: value}} draws each value as a dashed line, labelled,
    on that key's panel (baselines, true parameters, the held-out floor, the final metric)."""
    references = references or {}
    keys = sorted({k for rec in history for k, v in rec.items()
                   if k not in ("epoch", "step") and isinstance(v, (int, float))})
    groups: dict[str, list[str]] = {}
    for k in keys:  # train_x and test_x share a panel
        groups.setdefault(k.removeprefix("train_").removeprefix("test_"), []).append(k)
    fig, axes = plt.subplots(1, max(len(groups), 1), figsize=(5 * max(len(groups), 1), 3.5),
                             squeeze=False)
    for ax, (name, members) in zip(axes[0], groups.items()):
        for k in members:
            pts = [(rec["epoch"], rec[k]) for rec in history if k in rec]
            ax.plot(*zip(*pts), marker="o", ms=3, label=k)
            for (label, value), colour in zip(references.get(k, {}).items(), _REFERENCE_COLOURS):
                ax.axhline(value, color=colour, ls="--", lw=1.2, label=label)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, path, title)


_REFERENCE_COLOURS = ("0.35", "tab:red", "tab:green", "tab:purple")


def lattice_snapshots(lattices: torch.Tensor, labels: list[str], path: str, title: str = "",
                      cols: int | None = None) -> None:
    """Save spin lattices [n, L, L] (+1 black, -1 white) as a grid, ``labels[i]`` over each."""
    n = len(lattices)
    cols = cols or min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, lattice, label in zip(axes.flat, lattices.detach().cpu().float(), labels):
        ax.imshow(lattice.numpy(), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(textwrap.fill(label, 30), fontsize=9)
    fig.legend(handles=[Patch(facecolor="black", edgecolor="0.5", label="spin +1"),
                        Patch(facecolor="white", edgecolor="0.5", label="spin −1")],
               loc="lower center", ncol=2, frameon=False)
    save_figure(fig, path, title, rect=(0, 0.06, 1, 1), h_pad=2.0)


def measured_vs_exact(x: list[float], panels: list[dict], path: str, title: str = "",
                      xlabel: str = "") -> None:
    """One panel per dict {"name", "values" [k], "errors" [k], optionally "exact": (xs, ys) and
    "exact_label"}: the measured values at x with error bars, the exact curve beside them."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if "exact" in panel:
            ax.plot(*panel["exact"], color="0.4", lw=1.5, label=panel.get("exact_label", "exact"))
        ax.errorbar(x, panel["values"], yerr=panel["errors"], fmt="o", ms=4, capsize=3,
                    color="tab:blue", label="sampled")
        ax.set_xlabel(xlabel)
        ax.set_title(panel["name"])
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, path, title)


def metric_curves(curves: dict[str, list[dict]], key_of: dict[str, str], path: str,
                  title: str = "", ylabel: str = "", log: bool = False) -> None:
    """Save curves against epoch in one panel: for each label, the metric ``key_of[label]`` of
    the per-epoch dicts ``curves[label]`` (one run's history, or runs side by side); ``log``: a
    log scale."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, history in curves.items():
        pts = [(rec["epoch"], rec[key_of[label]]) for rec in history if key_of[label] in rec]
        if pts:
            ax.plot(*zip(*pts), marker="o", ms=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save_figure(fig, path, title)


def save_figure(fig, path: str, title: str, rect=(0, 0, 1, 1), h_pad: float | None = None) -> None:
    """Write the figure with its title wrapped to the figure's width (never clipped), the
    panels laid out in ``rect`` (figure fractions) below it, ``h_pad`` font sizes apart."""
    if title:
        width_chars = max(20, int(fig.get_figwidth() * 10))
        fig.suptitle(textwrap.fill(title, width_chars))
    fig.tight_layout(rect=rect, h_pad=h_pad)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
