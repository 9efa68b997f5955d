r"""What the experiments share: the context, the models of the papers, evaluations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.baselines.suite import CALIBRATION_EPISODES, PRICED_BASELINES, baseline_suite
from pyg_aggnn.data.config import scenario_to_config
from pyg_aggnn.data.seeding import Stream
from pyg_aggnn.evaluation.allocators import BaselineAllocator, PolicyAllocator
from pyg_aggnn.evaluation.episodes import simulate_episodes
from pyg_aggnn.evaluation.evaluator import MethodResult, evaluate
from pyg_aggnn.experiments.budget import Budget
from pyg_aggnn.experiments.runs import Run, RunSpec, train_run
from pyg_aggnn.nn.power_map import POWER_MAPS
from pyg_aggnn.wireless.scenario import Scenario

__all__ = ["Context", "Output", "policy_config", "run_spec", "evaluate_methods", "MODELS"]

#: The four architectures compared , with the small sizes that train in
#: minutes: 3 layers of 4 features instead of the papers' 10 layers of 1 feature.
MODELS = ("agg", "sel", "wcgcn", "mlp")


@dataclass
class Context:
    """Where an experiment writes, with which budget, and how it reports progress.

    ``seed`` seeds every training run (initial weights, actions, training episodes and,
    on the papers' fixed network, its layout). Evaluations on random networks use the
    test networks of seed 0 whatever ``seed``, so that runs of several seeds are compared
    on the same networks; on the fixed network they use that seed's layout.
    """

    out: Path
    budget: Budget
    device: str = "cpu"
    log: Any = print
    seed: int = 0

    def __post_init__(self):
        check_positive_int("seed", self.seed, minimum=0)

    def folder(self, name: str) -> Path:
        path = Path(self.out) / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def train(self, spec: RunSpec) -> Run:
        return train_run(spec, self.out, log=self.log)


@dataclass
class Output:
    """What an experiment produced, for the index.

    Attributes:
        name: the experiment.
        title: one line saying what it shows.
        figures: stems of the figures (``.png`` and ``.pdf`` exist).
        tables: CSV files.
        headline: a few rows ``{setting, method, sum_rate, ...}`` for the index table.
        notes: remarks for the reader.
    """

    name: str
    title: str
    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    headline: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""


def policy_config(
    model: str, K: int = 5, num_links: int | None = None, mode: str = "model_free"
) -> dict:
    """``{"class_path", "init_args"}`` of one of :data:`MODELS`.

    * ``agg``: Agg-GNN, ``K`` exchanges, 3 causal convolution layers of 4 features and
      5 taps, linear readout;
    * ``sel``: selection GNN, 3 batch-normalised graph-filter layers of 4 features and 5
      taps; trained model-free its logit is left free (``norm_logit=False``, as in the
      shipped configs: a normalised logit keeps the policy too random);
    * ``wcgcn``: the WCGCN of Shen et al. with the paper's sizes;
    * ``mlp``: an MLP on the ``num_links x num_links`` channel.
    """
    if model == "agg":
        args = {"K": K, "num_layers": 3, "hidden_channels": 4, "kernel_size": 5}
        return {"class_path": "pyg_aggnn.nn.AggGNN", "init_args": {**args, "readout": "linear"}}
    if model == "sel":
        args = {"num_layers": 3, "hidden_channels": 4, "kernel_size": 5, "norm": "batch_norm"}
        if mode == "model_free":
            args["norm_logit"] = False
        return {"class_path": "pyg_aggnn.nn.SelectionGNN", "init_args": args}
    if model == "wcgcn":
        return {"class_path": "pyg_aggnn.nn.WCGCN", "init_args": {}}
    if model == "mlp":
        if num_links is None:
            raise ValueError("num_links must be given for the mlp model, got None")
        args = {"num_links": num_links, "hidden_channels": [128, 128]}
        return {"class_path": "pyg_aggnn.nn.MLPPolicy", "init_args": args}
    raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")


def run_spec(
    ctx: Context,
    name: str,
    model: str,
    scenario: Scenario,
    K: int = 5,
    network: str = "fixed",
    mode: str = "model_free",
    update_every: int = 1,
    steps: str = "steps",
    lr: float | None = None,
    batch_size: int | None = None,
) -> RunSpec:
    """A training run of ``model`` on ``scenario`` with the context's budget.

    Every model of one comparison scores the same slots (from ``K - 1`` on, when the
    Agg-GNN's buffer is full) and is compared with a distributed WMMSE of ``K``
    exchanges, so that curves of one figure share their baselines. ``steps`` names the
    budget's field that sets the number of updates (``"steps"``, ``"slow_steps"`` for
    the costlier centralized models, ``"sweep_steps"`` for the runs of a sweep). The
    learning rate defaults to ``0.003`` model-free (``0.01`` stalls on the weak links of
    the ``m = 50`` network) and ``0.01`` model-based; ``batch_size`` defaults to the
    budget's.
    """
    budget = ctx.budget
    module = {
        "mode": mode,
        "lr": lr if lr is not None else (0.003 if mode == "model_free" else 0.01),
        "step_mu": 2.0e-4,
        "warmup_slots": K - 1,
        "num_exchanges": K,
        "baseline_update_every": update_every,
    }
    if mode == "model_based":
        # named, so that runs trained under another default power map are not reused
        module["power_map"] = POWER_MAPS[0]
    if network == "random":
        module["network"] = "random"
    return RunSpec(
        name=name,
        policy=policy_config(model, K, scenario.num_links, mode),
        scenario=scenario_to_config(scenario),
        steps=getattr(budget, steps),
        eval_every=budget.eval_every,
        batch_size=batch_size or budget.batch_size,
        val_size=budget.val_size,
        num_slots=max(10, K + 5),
        network=network,
        module=module,
        seed=ctx.seed,
        accelerator=budget.accelerator,
    )


def evaluate_methods(
    ctx: Context,
    modules: Mapping[str, Any],
    scenario: Scenario,
    count: int,
    K: int,
    network: str = "random",
    baselines: Sequence[str] = ("wmmse", "equal", "random"),
    update_every: int = 1,
    num_slots: int | None = None,
    warmup_slots: int | None = None,
) -> dict[str, MethodResult]:
    """Trained modules and baselines on the same ``count`` test episodes of ``scenario``
    (the fixed training layout with ``network="fixed"``).
    """
    warmup = K - 1 if warmup_slots is None else warmup_slots
    seed = ctx.seed if network == "fixed" else 0  # see Context
    episodes = simulate_episodes(scenario, count, num_slots or max(10, K + 5), seed, network)
    methods: dict[str, Any] = {name: PolicyAllocator(m) for name, m in modules.items()}
    calibration = None
    # the priced baselines' price: training episodes of the setting
    if any(n in baselines for n in PRICED_BASELINES):
        calibration = simulate_episodes(
            scenario, CALIBRATION_EPISODES, num_slots or max(10, K + 5), seed, network, Stream.TRAIN
        )
    suite = baseline_suite(
        baselines,
        num_exchanges=K,
        update_every=update_every,
        max_links=max(e.num_nodes for e in episodes),
        calibration=calibration,
        warmup_slots=warmup,
    )
    methods.update({name: BaselineAllocator(b) for name, b in suite.items()})
    return evaluate(methods, episodes, warmup_slots=warmup, device=ctx.device)
