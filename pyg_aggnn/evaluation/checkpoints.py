r"""Load trained :class:`~lightning_modules.PrimalDualModule` checkpoints for evaluation.

A checkpoint written by ``pyg-aggnn fit`` stores the policy's configuration among its
hyper-parameters, so ``PrimalDualModule.load_from_checkpoint`` rebuilds it. A module
trained from Python keeps only its weights; :func:`save_module` therefore also writes
the policy's ``{"class_path", "init_args"}`` under :data:`POLICY_KEY`, which
:func:`load_module` uses to rebuild the policy first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pyg_aggnn.data.config import resolve_class
from pyg_aggnn.nn.policy import PowerPolicy

__all__ = [
    "POLICY_KEY",
    "SCENARIO_KEY",
    "policy_from_config",
    "save_module",
    "load_module",
    "training_scenario",
]

#: Checkpoint entry holding the policy's ``{"class_path", "init_args"}``.
POLICY_KEY = "pyg_aggnn_policy"
#: Checkpoint entry holding the training scenario's ``{"class_path", "init_args"}``.
SCENARIO_KEY = "pyg_aggnn_scenario"


def policy_from_config(config: Mapping[str, Any]) -> PowerPolicy:
    """Build a :class:`~pyg_aggnn.nn.PowerPolicy` from ``{"class_path", "init_args"}``.

    ``class_path`` is a dotted path or a class name exported by :mod:`pyg_aggnn.nn`.
    """
    if not isinstance(config, Mapping) or "class_path" not in config:
        raise ValueError(f"config must be a mapping with a class_path, got {config!r}")
    cls = resolve_class(config["class_path"], (PowerPolicy,), "policy", "pyg_aggnn.nn")
    return cls(**dict(config.get("init_args") or {}))


def save_module(
    trainer,
    path: str | Path,
    policy_config: Mapping[str, Any],
    scenario_config: Mapping[str, Any] | None = None,
) -> Path:
    """Save the trainer's module to ``path`` with the policy configuration (and the
    training scenario's) beside the weights, atomically: a half-written checkpoint is
    never left behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    trainer.save_checkpoint(partial)
    checkpoint = torch.load(partial, map_location="cpu", weights_only=False)
    checkpoint[POLICY_KEY] = {
        "class_path": str(policy_config["class_path"]),
        "init_args": dict(policy_config.get("init_args") or {}),
    }
    if scenario_config is not None:
        checkpoint[SCENARIO_KEY] = dict(scenario_config)
    torch.save(checkpoint, partial)
    partial.replace(path)
    return path


def load_module(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a :class:`~lightning_modules.PrimalDualModule` checkpoint in eval mode.

    Raises:
        ValueError: if the file is missing or does not hold a policy that can be rebuilt.
    """
    from lightning_modules.primal_dual import PrimalDualModule

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint must be an existing file, got {str(path)!r}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    overrides = {}
    if POLICY_KEY in checkpoint:
        overrides["policy"] = policy_from_config(checkpoint[POLICY_KEY])
    elif "policy" not in checkpoint.get("hyper_parameters", {}):
        raise ValueError(
            f"checkpoint {str(path)!r} holds no policy configuration: save it with "
            "pyg_aggnn.evaluation.checkpoints.save_module or train with pyg-aggnn fit"
        )
    module = PrimalDualModule.load_from_checkpoint(path, map_location=map_location, **overrides)
    return module.eval()


def training_scenario(path: str | Path):
    """The scenario a checkpoint was trained on, if :func:`save_module` recorded it,
    else ``None``.
    """
    from pyg_aggnn.data.config import scenario_from_config

    config = torch.load(Path(path), map_location="cpu", weights_only=False).get(SCENARIO_KEY)
    return None if config is None else scenario_from_config(config)
