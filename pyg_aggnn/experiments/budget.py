r"""Compute budgets of ``pyg-aggnn reproduce``: how long to train, how much to evaluate.

* ``paper``: the papers' scale (networks of 25 and 50 links trained for thousands of
  steps, 1,000 test networks, transference up to 2,000 links); meant for a GPU.
* ``quick``: about ten minutes per experiment on two CPU cores: fewer steps and test
  networks, fewer points on each sweep.
* ``tiny``: seconds per experiment, tiny networks; for tests and CI only (the numbers
  mean nothing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pyg_aggnn._validation import check_choice

__all__ = ["Budget", "BUDGETS", "get_budget"]


@dataclass(frozen=True)
class Budget:
    """Sizes and lengths of one budget level (see the module docstring).

    Attributes:
        name: ``"tiny"``, ``"quick"`` or ``"paper"``.
        steps: policy updates per training run (the selection GNN and WCGCN, which cost
            more per step, get ``slow_steps``).
        slow_steps: updates of the costlier centralized models.
        sweep_steps: updates of each run of a hop sweep.
        eval_every: steps between two points of a training curve.
        batch_size: episodes per training step.
        val_size: episodes of each point of a training curve.
        test_size: networks of every final evaluation.
        adhoc_sizes: the two ad-hoc training sizes (the papers' 25 and 50).
        scale_sizes: sizes of the across-scale transference (a multiple of the sizes).
        scale_links: links evaluated per size of the across-scale transference.
        hops: the ``K`` of the hop sweeps.
        deltas: the fading innovation factors of the hop sweep.
        cells: ``(cells, users per cell)`` of the cellular network.
        cellular_hops: the ``K`` of the cellular hop sweep.
        gaussian_links: Gaussian IC training sizes; ``snrs_db`` their SNRs.
        d2d_links: the D2D training size.
        generalisation: size multiples of the architectures' generalisation.
        accelerator: Lightning accelerator of the training runs.
    """

    name: str
    steps: int
    slow_steps: int
    sweep_steps: int
    eval_every: int
    batch_size: int
    val_size: int
    test_size: int
    adhoc_sizes: tuple[int, int]
    scale_sizes: tuple[int, ...]
    scale_links: int
    hops: tuple[int, ...]
    deltas: tuple[float, ...]
    cells: tuple[int, int]
    cellular_hops: tuple[int, ...]
    gaussian_links: tuple[int, ...]
    snrs_db: tuple[float, ...]
    d2d_links: int
    generalisation: tuple[float, ...] = field(default=(1, 2, 4))
    accelerator: str = "cpu"

    def as_dict(self) -> dict:
        return asdict(self)


BUDGETS: dict[str, Budget] = {
    "tiny": Budget(
        name="tiny",
        steps=4,
        slow_steps=4,
        sweep_steps=4,
        eval_every=2,
        batch_size=4,
        val_size=4,
        test_size=4,
        adhoc_sizes=(6, 8),
        scale_sizes=(6, 12),
        scale_links=24,
        hops=(1, 2),
        deltas=(0.3,),
        cells=(2, 3),
        cellular_hops=(1, 2),
        gaussian_links=(4,),
        snrs_db=(0.0,),
        d2d_links=6,
        generalisation=(1, 2),
    ),
    "quick": Budget(
        name="quick",
        steps=1000,
        slow_steps=700,
        sweep_steps=400,
        eval_every=100,
        batch_size=32,
        val_size=64,
        test_size=500,
        adhoc_sizes=(25, 50),
        scale_sizes=(25, 50, 100, 200, 500, 1000),
        scale_links=10_000,
        hops=(1, 3, 5),
        deltas=(0.1, 0.3, 0.6),
        cells=(5, 10),
        cellular_hops=(2, 4, 8),
        gaussian_links=(10,),
        snrs_db=(0.0, 10.0),
        d2d_links=50,
        generalisation=(1, 2, 4),
    ),
    "paper": Budget(
        name="paper",
        steps=5000,
        slow_steps=5000,
        sweep_steps=5000,
        eval_every=100,
        batch_size=64,
        val_size=500,
        test_size=1000,
        adhoc_sizes=(25, 50),
        scale_sizes=(25, 50, 100, 200, 500, 1000, 2000),
        scale_links=50_000,
        hops=(1, 2, 3, 4, 5, 6, 8, 10),
        deltas=(0.1, 0.3, 0.6, 1.0),
        cells=(5, 10),
        cellular_hops=(1, 2, 4, 6, 8, 10),
        gaussian_links=(10, 30, 50),
        snrs_db=(0.0, 10.0),
        d2d_links=50,
        generalisation=(1, 2, 4, 10),
        accelerator="auto",
    ),
}


def get_budget(name: str) -> Budget:
    """The budget called ``name`` (``"tiny"``, ``"quick"`` or ``"paper"``)."""
    return BUDGETS[check_choice("budget", name, tuple(BUDGETS))]
