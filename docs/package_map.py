"""Draw the README's package map: the data flow of one step, and where each part lives.

python docs/package_map.py        # writes docs/package_map.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

STAGES = [
    (
        "episode",
        "pyg_aggnn.wireless\npyg_aggnn.data",
        "scenario -> WirelessEpisode\n(keyed streams, datasets)",
    ),
    ("policy", "pyg_aggnn.nn", "logits z_i(t)\n(AggGNN, SelectionGNN, WCGCN, MLP)"),
    ("on-air powers", "pyg_aggnn.on_air", "keyed draws or power map,\nheld while inactive"),
    (
        "rates",
        "pyg_aggnn.wireless.physics\npyg_aggnn.problem",
        "SINR, rates, utility,\nconstraint slacks",
    ),
    ("duals", "lightning_modules", "primal-dual step\n(PrimalDualModule, DualVariables)"),
]
SIDE = [
    ("pyg_aggnn.baselines", "WMMSE, equal, random, binary,\nexhaustive: powers from an episode"),
    ("pyg_aggnn.evaluation", "metrics, load_policy, transference,\nreports (no Lightning)"),
]


def _box(ax, x, y, w, h, title, lines, colour):
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.02", facecolor=colour, edgecolor="0.3", lw=1
        )
    )
    ax.text(x + w / 2, y + h - 0.07, title, ha="center", va="top", fontsize=10, weight="bold")
    ax.text(x + w / 2, y + 0.06, lines, ha="center", va="bottom", fontsize=7.5)


def main() -> None:
    fig, ax = plt.subplots(figsize=(11, 3.6))
    width, height, gap = 1.9, 1.05, 0.35
    for k, (title, package, what) in enumerate(STAGES):
        x = k * (width + gap)
        colour = "#dbe9f6" if package != "lightning_modules" else "#f6e3d2"
        _box(ax, x, 1.2, width, height, title, f"{package}\n\n{what}", colour)
        if k:
            ax.annotate(
                "",
                xy=(x - 0.02, 1.2 + height / 2),
                xytext=(x - gap + 0.02, 1.2 + height / 2),
                arrowprops=dict(arrowstyle="->", lw=1.5),
            )
    # the duals price the rates and the power of the next step
    last = (len(STAGES) - 1) * (width + gap)
    ax.annotate(
        "",
        xy=(width + gap + width / 2, 1.2 + height + 0.03),
        xytext=(last + width / 2, 1.2 + height + 0.03),
        arrowprops=dict(arrowstyle="->", lw=1.0, ls="--", connectionstyle="arc3,rad=0.25"),
    )
    ax.text(
        (width + gap + last + width) / 2,
        2.75,
        "duals weight the policy's loss",
        ha="center",
        fontsize=8,
        style="italic",
    )
    for k, (package, what) in enumerate(SIDE):
        x = 1.5 + k * 4.2
        _box(ax, x, 0.05, 3.6, 0.8, package, what, "#e6f2e1")
    ax.set_xlim(-0.1, len(STAGES) * (width + gap))
    ax.set_ylim(0, 3.0)
    ax.axis("off")
    fig.tight_layout()
    out = Path(__file__).with_name("package_map.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
