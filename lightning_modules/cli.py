"""The training command line: ``pyg-aggnn fit | validate | test | train``.

Built on :class:`~lightning.pytorch.cli.LightningCLI` with
:class:`~lightning_modules.PrimalDualModule` and
:class:`~lightning_modules.WirelessDataModule`. Without ``--config`` the classes'
defaults (spelled out in ``configs/default.yaml``) train the papers' ad-hoc ``m = 25``
network with an Agg-GNN; experiment configs state only what differs, e.g.
``pyg-aggnn fit --config configs/adhoc_m50.yaml``. Policies, scenarios, problems and
baselines are chosen by ``class_path``; ``--print_config`` shows the complete
configuration.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import CSVLogger

from lightning_modules.datamodule import WirelessDataModule
from lightning_modules.lightning_notices import silence_lightning_notices
from lightning_modules.primal_dual import PrimalDualModule
from lightning_modules.progress import LineProgressBar
from pyg_aggnn._cli_errors import one_line, usage_line
from pyg_aggnn.data.config import scenario_to_config
from pyg_aggnn.evaluation.checkpoints import read_checkpoint
from pyg_aggnn.on_air import default_policy_config
from pyg_aggnn.problem import PowerProblem

__all__ = ["AggGNNCLI", "ArgumentParser", "default_objects", "fit", "validate", "test", "train"]

TRAINER_DEFAULTS: dict = {
    "default_root_dir": "outputs",
    "max_epochs": 20,
    "log_every_n_steps": 10,
    "accelerator": "auto",
}


def default_objects(cfg) -> dict:
    """``{key: {"class_path", "init_args"}}`` of the objects that ``cfg`` leaves at
    ``None`` and the classes build by default: the policy
    (:func:`pyg_aggnn.on_air.default_policy_config`), the problem and, without a
    dataset, the scenario (:meth:`WirelessDataModule.default_scenario`).

    They are not parser defaults, since a parser default's arguments would pass on to
    another class chosen on the command line.
    """
    defaults = {
        "model.policy": default_policy_config,
        "model.problem": lambda: {"class_path": f"{PowerProblem.__module__}.PowerProblem"},
        "data.scenario": lambda: scenario_to_config(WirelessDataModule.default_scenario()),
    }
    resolved = {}
    for key, default in defaults.items():
        if key in cfg and cfg[key] is None:
            if key == "data.scenario" and cfg.get("data.dataset") is not None:
                continue
            resolved[key] = default()
    return resolved


class ArgumentParser(LightningArgumentParser):
    """LightningCLI's parser whose errors are the usage line and ``error: <what>`` (exit
    status 2) instead of the usage of every option.
    """

    def dump(self, cfg, *args, **kwargs) -> str:
        """The configuration as YAML, with the defaults that the classes resolve from
        ``None`` (policy, problem, scenario) spelled out, as ``--print_config`` and the
        saved ``config.yaml`` show them.
        """
        cfg = cfg.clone()
        for key, value in default_objects(cfg).items():
            cfg[key] = value
        return super().dump(cfg, *args, **kwargs)

    def error(self, message: str, ex: Exception | None = None):
        if not self.exit_on_error:  # a parser used inside jsonargparse raises instead
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self
        prog = parser.prog.replace(" [options]", "")  # a subcommand's: "pyg-aggnn [options] fit"
        sys.stderr.write(f"{usage_line(prog)}\nerror: {one_line(message)}\n")
        raise SystemExit(2)


class AggGNNCLI(LightningCLI):
    """``LightningCLI`` with the package's defaults, loggers and progress output.

    * logs to ``outputs/<config name>/version_<n>/`` as CSV (``metrics.csv``) and, where
      TensorBoard is installed, as TensorBoard events; checkpoints (``last.ckpt`` and
      the latest epoch) go to ``checkpoints/`` beside them;
    * prints plain progress lines (:class:`~lightning_modules.LineProgressBar`) when the
      output is not a terminal;
    * ``--torch_threads N`` sets PyTorch's CPU threads (default: 1; networks of tens of
      links train several times faster on one thread than on two busy cores);
    * an argument or config entry that does not parse prints the usage line and
      ``error: <what>`` (exit status 2, :class:`ArgumentParser`);
    * a ``--ckpt_path`` file is read first with
      :func:`~pyg_aggnn.evaluation.checkpoints.read_checkpoint`, so that a damaged file
      or one that would run code is refused with one error naming it.
    """

    def __init__(self, args: list[str] | None = None, run: bool = True, **kwargs):
        silence_lightning_notices()
        trainer_defaults = {**TRAINER_DEFAULTS, "callbacks": [ModelCheckpoint(save_last=True)]}
        super().__init__(
            PrimalDualModule,
            WirelessDataModule,
            args=args,
            run=run,
            trainer_defaults=trainer_defaults,
            seed_everything_default=0,
            save_config_kwargs={"overwrite": True},
            parser_class=kwargs.pop("parser_class", ArgumentParser),
            **kwargs,
        )

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the hyper-parameters of --ckpt_path (with weights_only=True)
        # before anything is built; the package's reader goes first, for its errors
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path and Path(ckpt_path).is_file():
            read_checkpoint(ckpt_path)
        super()._parse_ckpt_path()

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument(
            "--torch_threads",
            type=int | None,
            default=1,
            help=(
                "PyTorch CPU threads of this process; the small tensors of networks of "
                "tens of links run fastest on one (default: 1; null: PyTorch's choice)"
            ),
        )

    def before_instantiate_classes(self) -> None:
        if self._get(self.config, "lr_scheduler") and not self._get(self.config, "optimizer"):
            # LightningCLI builds a schedule only around an optimizer it builds itself, and
            # would otherwise drop it without a word
            raise ValueError(
                "lr_scheduler needs optimizer as well (e.g. --optimizer torch.optim.Adam "
                "--optimizer.lr 0.003, or an optimizer: entry in the config): without one "
                "the schedule would be ignored"
            )
        threads = self._get(self.config, "torch_threads")
        if threads:
            torch.set_num_threads(int(threads))

    def _run_name(self) -> str:
        configs = self._get(self.config, "config") or []
        return Path(str(configs[-1])).stem if configs else "default"

    def instantiate_trainer(self, **kwargs):
        config = self._get(self.config_init, "trainer", default={})
        callbacks = list(config.get("callbacks") or [])
        wants_bar = config.get("enable_progress_bar") in (None, True)
        has_bar = any(isinstance(c, ProgressBar) for c in callbacks)
        if wants_bar and not has_bar and not sys.stdout.isatty():
            kwargs["callbacks"] = [*callbacks, LineProgressBar()]
        if config.get("logger") in (None, True):
            root = config["default_root_dir"] or "outputs"
            loggers = [CSVLogger(root, name=self._run_name())]
            if importlib.util.find_spec("tensorboard") is not None:
                from lightning.pytorch.loggers import TensorBoardLogger

                loggers.append(
                    TensorBoardLogger(root, name=self._run_name(), version=loggers[0].version)
                )
            kwargs["logger"] = loggers
        return super().instantiate_trainer(**kwargs)


def _subcommand(name: str, argv: list[str]) -> int:
    AggGNNCLI(args=[name, *argv], parser_kwargs={"prog": "pyg-aggnn"})
    return 0


def fit(argv: list[str]) -> int:
    """``pyg-aggnn fit``: train a policy (see :class:`AggGNNCLI`)."""
    return _subcommand("fit", argv)


def validate(argv: list[str]) -> int:
    """``pyg-aggnn validate``: evaluate a checkpoint on the validation episodes."""
    return _subcommand("validate", argv)


def test(argv: list[str]) -> int:
    """``pyg-aggnn test``: evaluate a checkpoint on the test episodes."""
    return _subcommand("test", argv)


def result_table(metrics: dict, split: str = "test", policy: str = "policy") -> str:
    """The policy's metrics beside every baseline's, as a text table."""
    prefix = f"{split}/sum_rate_"
    rows = [(policy, "")] + [
        (key[len(prefix) :],) * 2 for key in sorted(metrics) if key.startswith(prefix)
    ]
    header = f"{'':<14}{'sum rate':>10}{'power/link':>12}{'budget use':>12}"
    lines = [header]
    for label, suffix in rows:
        tail = f"_{suffix}" if suffix else ""

        def value(name: str, tail: str = tail) -> float:
            return float(metrics.get(f"{split}/{name}{tail}", float("nan")))

        lines.append(
            f"{label:<14}{value('sum_rate'):>10.4f}{value('power_per_link'):>12.4f}"
            f"{1 + value('violation'):>11.1%}"
        )
    return "\n".join(lines)


def train(argv: list[str]) -> int:
    """``pyg-aggnn train``: fit (the default config unless ``--config``), then print the
    trained policy's test result against the baselines.
    """
    cli = AggGNNCLI(args=argv, run=False, parser_kwargs={"prog": "pyg-aggnn train"})
    cli.trainer.fit(cli.model, cli.datamodule)
    cli.trainer.test(cli.model, cli.datamodule, verbose=False)
    if cli.trainer.is_global_zero:
        data = cli.datamodule
        size = data.test_size if data.dataset is None else "held-out"
        print(f"\nTest episodes: {size}; sum rate in nats per slot, averaged over slots")
        print(result_table(cli.trainer.callback_metrics, "test", type(cli.model.policy).__name__))
        print(f"Logs and checkpoints: {cli.trainer.log_dir}")
    return 0
