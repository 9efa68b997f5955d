r"""Load trained :class:`~lightning_modules.PrimalDualModule` checkpoints for evaluation.

A checkpoint written by ``pyg-aggnn fit`` stores the policy's configuration among its
hyper-parameters, so ``PrimalDualModule.load_from_checkpoint`` rebuilds it. A module
trained from Python keeps only its weights; :func:`save_module` therefore also writes
the policy's ``{"class_path", "init_args"}`` under :data:`POLICY_KEY`, which
:func:`load_module` uses to rebuild the policy first.

No code runs from a checkpoint. Every checkpoint is read with
``torch.load(weights_only=True)``: the package writes only tensors and plain values
(numbers, strings, lists, dicts), so nothing of its own needs to be allowlisted, and a
file that needs any other Python global (a pickled object, a function to call) is
refused with :class:`CheckpointError` naming the file and the global. Class paths in
the stored configurations must name modules that are already imported, so rebuilding
a policy or a scenario never imports a module that the file names. A damaged or
foreign file (empty, truncated, random bytes, not a dict with a ``state_dict``) raises
the same :class:`CheckpointError`, naming the file.
"""

from __future__ import annotations

import io
import pickle
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pyg_aggnn.data.config import resolve_class
from pyg_aggnn.nn.policy import PowerPolicy

__all__ = [
    "POLICY_KEY",
    "SCENARIO_KEY",
    "CheckpointError",
    "read_checkpoint",
    "policy_from_config",
    "save_module",
    "load_module",
    "training_scenario",
]

#: Checkpoint entry holding the policy's ``{"class_path", "init_args"}``.
POLICY_KEY = "pyg_aggnn_policy"
#: Checkpoint entry holding the training scenario's ``{"class_path", "init_args"}``.
SCENARIO_KEY = "pyg_aggnn_scenario"

# torch names the refused global in its UnpicklingError ("... GLOBAL posix.system ...")
_REFUSED_GLOBAL = re.compile(r"GLOBAL (\S+?)\.?(?:\s|$)")
_DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# lines of torch's weights_only message that say nothing about this file
_BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation")
_PLAIN = (type(None), bool, int, float, str, torch.Tensor)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: missing, damaged (empty, truncated,
    overwritten), not a checkpoint of this package, or refused because loading it
    would run code. The message names the file.
    """


def _damaged(name: str, reason: str) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {name!r} is damaged or not a pyg_aggnn checkpoint ({reason})"
    )


def _reason(error: BaseException) -> str:
    """The informative part of a loader's error, on one line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    detail = next((line for line in lines if not line.startswith(_BOILERPLATE)), "")
    detail = detail.split(". ")[0][:160]
    if not detail and isinstance(error, EOFError):
        detail = "the file is empty or ends early"
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _load_bytes(data: bytes, name: str) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():  # a foreign pickle's protocol: reported below anyway
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            checkpoint = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        refused = _REFUSED_GLOBAL.search(str(error))
        if refused is None:
            raise _damaged(name, _reason(error)) from error
        raise CheckpointError(
            f"checkpoint {name!r} is refused: it needs the Python global "
            f"{refused.group(1)!r}, which could run code when loaded; checkpoints of "
            "pyg_aggnn hold only tensors and plain values"
        ) from error
    except Exception as error:  # zip, stream and pickle errors: the bytes are not a checkpoint
        raise _damaged(name, _reason(error)) from error
    if not isinstance(checkpoint, dict):
        raise _damaged(name, f"it holds a {type(checkpoint).__name__}, not a dict")
    if not isinstance(checkpoint.get("state_dict"), Mapping):
        raise _damaged(name, "it holds no state_dict")
    _check_class_paths(checkpoint, name)
    return checkpoint


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _check_class_paths(checkpoint: dict[str, Any], name: str) -> None:
    """Refuse dotted paths into modules that are not imported: rebuilding the policy or
    the scenario would import them, and importing a module runs its code.
    """
    hparams = checkpoint.get("hyper_parameters")
    if isinstance(hparams, Mapping):  # Lightning checks its own instantiator against a list
        hparams = {k: v for k, v in hparams.items() if k != "_instantiator"}
    stored = [hparams, checkpoint.get(POLICY_KEY), checkpoint.get(SCENARIO_KEY)]
    for value in _strings(stored):
        module = value.rpartition(".")[0]
        if _DOTTED_PATH.fullmatch(value) and module not in sys.modules:
            raise CheckpointError(
                f"checkpoint {name!r} is refused: it names {value!r} from the module "
                f"{module!r}, which is not imported; import it first if you trust the file"
            )


def _read(path: str | Path) -> tuple[bytes, dict[str, Any]]:
    name = str(path)
    if not Path(path).is_file():
        raise CheckpointError(f"checkpoint must be an existing file, got {name!r}")
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(f"checkpoint {name!r} cannot be read ({error.strerror})") from None
    return data, _load_bytes(data, name)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint dict in ``path``, read with ``torch.load(weights_only=True)``.

    Raises:
        CheckpointError: the file is missing, damaged or foreign, or needs a Python
            global that could run code (named in the message).
    """
    return _read(path)[1]


def _check_plain(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} must have string keys, got {key!r}")
            _check_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
    elif not isinstance(value, _PLAIN):
        raise ValueError(
            f"{where} must hold only numbers, strings, tensors, lists and dicts (a "
            f"checkpoint must load with weights_only=True), got {type(value).__name__}"
        )


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

    The configurations must hold only plain values (numbers, strings, tensors, lists,
    dicts), so that the file loads with ``weights_only=True``.
    """
    policy = {
        "class_path": str(policy_config["class_path"]),
        "init_args": dict(policy_config.get("init_args") or {}),
    }
    _check_plain(policy, "policy_config")
    if scenario_config is not None:
        scenario_config = dict(scenario_config)
        _check_plain(scenario_config, "scenario_config")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    trainer.save_checkpoint(partial)
    checkpoint = read_checkpoint(partial)
    checkpoint[POLICY_KEY] = policy
    if scenario_config is not None:
        checkpoint[SCENARIO_KEY] = scenario_config
    torch.save(checkpoint, partial)
    partial.replace(path)
    return path


def load_module(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Load a :class:`~lightning_modules.PrimalDualModule` checkpoint in eval mode.

    The file is read once, with ``weights_only=True``, and the module is rebuilt from
    those bytes (Lightning's loader reads them with ``weights_only=True`` too).

    Raises:
        CheckpointError: (a ``ValueError``) the file is missing, damaged or foreign,
            holds no policy that can be rebuilt, or is refused because loading it would
            run code.
    """
    from lightning_modules.primal_dual import PrimalDualModule

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


def training_scenario(path: str | Path):
    """The scenario a checkpoint was trained on, if :func:`save_module` recorded it,
    else ``None``.

    Raises:
        CheckpointError: as :func:`read_checkpoint`, or the recorded scenario cannot be
            rebuilt.
    """
    from pyg_aggnn.data.config import scenario_from_config

    config = read_checkpoint(path).get(SCENARIO_KEY)
    if config is None:
        return None
    try:
        return scenario_from_config(config)
    except Exception as error:
        raise _damaged(str(path), f"its scenario cannot be rebuilt: {_reason(error)}") from error
