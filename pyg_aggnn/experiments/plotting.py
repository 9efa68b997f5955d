r"""Figures of the experiments: headless matplotlib, one style per method, PNG + PDF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display is ever needed

import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["STYLES", "label", "style", "figure", "save", "draw_baselines", "RATE_LABEL"]

RATE_LABEL = "sum rate [nats/slot]"

#: Colour, line style and legend label of every method.
STYLES: dict[str, dict] = {
    "agg": {"color": "tab:blue", "linestyle": "-", "label": "Agg-GNN (decentralized)"},
    "sel": {"color": "tab:orange", "linestyle": "-", "label": "Sel-GNN (centralized)"},
    "wcgcn": {"color": "tab:green", "linestyle": "-", "label": "WCGCN (centralized)"},
    "mlp": {"color": "tab:purple", "linestyle": "-", "label": "MLP (centralized)"},
    "wmmse": {"color": "black", "linestyle": "--", "label": "WMMSE (distributed, global price)"},
    "wmmse_local": {
        "color": "tab:cyan",
        "linestyle": "--",
        "label": "WMMSE (distributed, fixed price)",
    },
    "wmmse_local_awake": {
        "color": "tab:cyan",
        "linestyle": (0, (2, 1)),
        "label": "WMMSE (distributed, fixed price, only when awake)",
    },
    "wmmse_central": {"color": "0.35", "linestyle": (0, (5, 1)), "label": "WMMSE (centralized)"},
    "equal": {"color": "tab:gray", "linestyle": ":", "label": "equal power"},
    "random": {"color": "tab:red", "linestyle": "-.", "label": "random full power"},
    "strongest": {"color": "tab:brown", "linestyle": (0, (3, 1, 1, 1)), "label": "strongest links"},
    "exhaustive": {"color": "tab:olive", "linestyle": (0, (1, 1)), "label": "exhaustive optimum"},
    "mrt": {"color": "tab:olive", "linestyle": (0, (3, 1)), "label": "maximum ratio transmission"},
    "binary": {
        "color": "tab:pink",
        "linestyle": (0, (1, 2)),
        "label": "binary bound (centralized)",
    },
}


def label(method: str) -> str:
    """Legend label of a method (its name when unknown)."""
    return STYLES.get(method, {}).get("label", method)


def style(method: str, index: int = 0) -> dict:
    """``plot`` keyword arguments of a method."""
    entry = dict(STYLES.get(method, {"color": f"C{index % 10}", "linestyle": "-"}))
    entry["label"] = label(method)
    return entry


def figure(width: float = 6.0, height: float = 4.0, ncols: int = 1):
    """A new figure with ``ncols`` axes side by side; returns ``(fig, axes list)``."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def draw_baselines(ax, values: dict[str, float], skip: Sequence[str] = ()) -> None:
    """Horizontal lines at the baselines' values (a baseline does not learn)."""
    for index, (method, value) in enumerate(values.items()):
        if method in skip or value != value:
            continue
        ax.axhline(value, linewidth=1.5, **style(method, index))


def save(fig, stem: str | Path) -> list[Path]:
    """Save ``stem.png`` (150 dpi) and ``stem.pdf``; closes the figure."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")  # keeps legends outside the axes
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def validation_points(curve: Sequence[dict], key: str = "sum_rate") -> tuple[list, list]:
    """``(steps, values)`` of a metric at the validation points of a training curve."""
    rows = [row for row in curve if row.get("split") == "val" and key in row]
    return [row["step"] for row in rows], [row[key] for row in rows]


def baseline_values(curve: Sequence[dict], key: str = "sum_rate") -> dict[str, float]:
    """The baselines' values logged beside a training curve (last validation point)."""
    rows = [row for row in curve if row.get("split") == "val"]
    if not rows:
        return {}
    prefix = f"{key}_"
    return {
        name[len(prefix) :]: value for name, value in rows[-1].items() if name.startswith(prefix)
    }


def draw_training(ax, curves: dict[str, Sequence[dict]], title: str = "") -> None:
    """Learned models' validation sum rate over training, baselines as horizontal lines
    (from the first curve: every curve of one panel is validated on the same episodes).
    """
    for index, (method, curve) in enumerate(curves.items()):
        steps, values = validation_points(curve)
        ax.plot(steps, values, marker="o", markersize=3, linewidth=2, **style(method, index))
    first = next(iter(curves.values()), [])
    draw_baselines(ax, baseline_values(first))
    ax.set_xlabel("training step (policy updates)")
    ax.set_ylabel(RATE_LABEL)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
