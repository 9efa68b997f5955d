"""Draw the README's picture of the idea: a network, its graph at one slot, and what a node knows.

python docs/network_figure.py  # writes docs/network.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from pyg_aggnn.wireless import AdHoc, RandomSubsets  # noqa: E402


def main() -> None:
    scenario = AdHoc(40, activation=RandomSubsets(lam=28, subset_seed=1), eta0=0.004)
    ep = scenario.episode(3, seed=4)
    tx, rx = ep.tx_pos.numpy(), ep.rx_pos.numpy()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))

    ax = axes[0]
    for i in range(ep.num_nodes):
        ax.plot([tx[i, 0], rx[i, 0]], [tx[i, 1], rx[i, 1]], color="0.6", lw=1, zorder=1)
    ax.scatter(tx[:, 0], tx[:, 1], s=30, c="tab:blue", label="transmitter $a_i$", zorder=2)
    ax.scatter(
        rx[:, 0], rx[:, 1], s=30, marker="^", c="tab:orange", label="receiver $b_i$", zorder=2
    )
    ax.set_title(f"Ad-hoc network, m = {ep.num_nodes} links, the papers' geometry")
    ax.set_xlabel("x (distance units)")
    ax.set_ylabel("y (distance units)")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")

    ax = axes[1]
    slot = 2
    src, dst = ep.edge_index
    weight = ep.edge_weight[:, slot]
    keep = (weight > 0) & (src != dst)
    strength = torch.log10(weight[keep] / ep.eta0)
    strength = (strength / strength.max()).numpy()
    for (j, i), s in zip(ep.edge_index[:, keep].T.tolist(), strength):
        ax.annotate(
            "",
            xy=tx[i],
            xytext=tx[j],
            arrowprops={"arrowstyle": "->", "color": plt.cm.viridis(s), "lw": 0.8 + 1.5 * s},
            zorder=1,
        )
    active = ep.active[:, slot].numpy()
    ax.scatter(tx[active, 0], tx[active, 1], s=40, c="tab:green", label="active at t", zorder=2)
    ax.scatter(tx[~active, 0], tx[~active, 1], s=40, c="0.75", label="asleep at t", zorder=2)
    ax.set_title(r"Graph shift $S(t)$: edge $j \to i$ if $|h_{ij}(t)| \geq \eta_0$, $j$ active")
    ax.set_xlabel("x (distance units)")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    fig.suptitle(
        "Each node hears its above-threshold active neighbours, one hop per slot: "
        "what is k hops away arrives k slots old",
        fontsize=10,
    )
    fig.tight_layout()
    out = Path(__file__).with_name("network.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
