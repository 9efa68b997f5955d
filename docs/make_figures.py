"""Draw the README's figure of the delayed diffusion.

python docs/make_figures.py  # writes docs/delayed_diffusion.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from pyg_aggnn.data import WirelessEpisode  # noqa: E402
from pyg_aggnn.nn import DelayedDiffusion  # noqa: E402
from pyg_aggnn.wireless import D2D, AdHoc, Cellular, GaussianIC  # noqa: E402

OUT = Path(__file__).with_name("delayed_diffusion.png")


def chain_episode() -> WirelessEpisode:
    """Six links on a line, each heard by its neighbours; some sleep at some slots."""
    m, T = 6, 4
    gain = torch.zeros(m, m, T)
    for i in range(m):
        gain[i, i] = 1.0
        for j in (i - 1, i + 1):
            if 0 <= j < m:
                gain[i, j] = 0.5
    gain[0, 1, 1] = gain[4, 5, 2] = 0.0  # fading below the threshold
    active = torch.ones(m, T, dtype=torch.bool)
    active[2, 1] = active[5, 2] = active[1, 0] = False
    return WirelessEpisode.from_dense(gain, eta0=0.1, active=active)


def draw_time_expanded(ax) -> None:
    episode = chain_episode()
    m, T = episode.num_nodes, episode.num_slots
    focal, last = 3, T - 1
    # which (node, slot) pairs feed the focal node's sequence at the last slot
    feeds = torch.zeros(m, T, dtype=torch.bool)
    feeds[focal, last] = True
    for t in range(last, 0, -1):
        S = episode.dense_shift(t)
        feeds[:, t - 1] = (S[feeds[:, t]] > 0).any(dim=0)
    for t in range(1, T):
        S = episode.dense_shift(t)
        for i in range(m):
            for j in range(m):
                if S[i, j] > 0:
                    hot = bool(feeds[i, t] and feeds[j, t - 1])
                    ax.annotate(
                        "",
                        xy=(t, i),
                        xytext=(t - 1, j),
                        arrowprops={
                            "arrowstyle": "->",
                            "color": "tab:red" if hot else "0.75",
                            "lw": 1.8 if hot else 0.8,
                            "shrinkA": 7,
                            "shrinkB": 7,
                        },
                    )
    for t in range(T):
        for i in range(m):
            on = bool(episode.active[i, t])
            ax.scatter(
                t,
                i,
                s=140,
                zorder=3,
                facecolor=("tab:blue" if on else "white"),
                edgecolor="tab:blue",
                linewidth=1.5,
            )
    ax.scatter(last, focal, s=320, facecolor="none", edgecolor="tab:red", lw=2, zorder=4)
    ax.set_xticks(range(T), [f"t-{last - t}" if t < last else "t" for t in range(T)])
    ax.set_yticks(range(m), [f"link {i}" for i in range(m)])
    ax.set_xlim(-0.4, T - 0.6)
    ax.set_ylim(-0.6, m - 0.4)
    ax.set_title(
        "Delayed diffusion: one exchange per slot\n"
        r"$y^{(k)}_3(t)$ gathers $x_j(t-k)$ along the red paths"
    )
    ax.text(
        0.0,
        -0.16,
        "arrows into slot t: messages sent during t (edges of $S(t)$)\n"
        "hollow: asleep, only receives; forwards at its next active slot",
        transform=ax.transAxes,
        fontsize=8,
    )


def draw_scales(ax) -> None:
    scenarios = {
        "ad-hoc m=1000": AdHoc(1000, reference_links=25),
        "dense cells 4x150": Cellular(4, 150, half_width=60, cell_radius=15),
        "D2D m=60": D2D(60),
        "Gaussian IC m=30": GaussianIC(30),
    }
    K = 10
    for (name, scenario), color in zip(scenarios.items(), plt.cm.tab10.colors):
        episode = scenario.episode(K + 2, seed=0, dtype=torch.float64)
        x = torch.ones(episode.num_nodes, episode.num_slots, 1, dtype=torch.float64)
        for compress, normalization, style in (("none", "none", "--"), ("log", "damped", "-")):
            conv = DelayedDiffusion(K, compress, normalization)
            y = conv(x, episode.edge_index, episode.edge_weight, episode.eta0)[:, :, 0]
            typical = y.median(dim=0).values.clamp_min(1e-300)
            label = name if style == "-" else None
            ax.semilogy(range(K), typical, style, color=color, label=label)
    ax.set_xlabel("hop k")
    ax.set_ylabel(r"median over links of $y^{(k)}_i(t)$, $x \equiv 1$")
    ax.set_title("Raw gains (dashed) vs. log-compressed,\nreceiver-damped weights (solid)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def main() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    draw_time_expanded(axes[0])
    draw_scales(axes[1])
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
