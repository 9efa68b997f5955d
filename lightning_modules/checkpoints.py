"""Load a whole :class:`~lightning_modules.PrimalDualModule` from a checkpoint.

Evaluation needs only the policy (:func:`pyg_aggnn.evaluation.load_policy`, without
Lightning); this rebuilds the training module itself, e.g. to resume or inspect its
duals, reading the file as safely (``weights_only=True``, one
:class:`~pyg_aggnn.evaluation.CheckpointError` naming the file).
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import nn

from lightning_modules.primal_dual import PrimalDualModule
from pyg_aggnn.evaluation.checkpoints import (
    POLICY_KEY,
    _damaged,
    _read,
    _reason,
    policy_from_config,
)

__all__ = ["load_module"]


def load_module(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a :class:`~lightning_modules.PrimalDualModule` checkpoint in eval mode.

    The file is read once, with ``weights_only=True``, and the module is rebuilt from
    those bytes (Lightning's loader reads them with ``weights_only=True`` too).

    Raises:
        CheckpointError: (a ``ValueError``) the file is missing, damaged or foreign,
            holds no policy that can be rebuilt, or is refused because loading it would
            run code.
    """
    name = str(path)
    data, checkpoint = _read(path)
    overrides = {}
    if POLICY_KEY in checkpoint:
        try:
            overrides["policy"] = policy_from_config(checkpoint[POLICY_KEY])
        except Exception as error:  # a constructor's check or a class that is not a policy
            raise _damaged(name, f"its policy cannot be rebuilt: {_reason(error)}") from error
    elif "policy" not in (checkpoint.get("hyper_parameters") or {}):
        raise _damaged(
            name,
            "it holds no policy configuration: save it with "
            "pyg_aggnn.evaluation.checkpoints.save_module or train with pyg-aggnn fit",
        )
    if "power_map" not in (checkpoint.get("hyper_parameters") or {"power_map": None}):
        # written before the power map was a choice: its model-based powers were p0 sigmoid
        overrides["power_map"] = "sigmoid"
    try:
        module = PrimalDualModule.load_from_checkpoint(
            io.BytesIO(data), map_location=map_location, weights_only=True, **overrides
        )
    except Exception as error:  # hyper-parameters or weights of another model
        raise _damaged(name, f"the module cannot be rebuilt: {_reason(error)}") from error
    return module.eval()
