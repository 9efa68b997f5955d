r"""Load trained :class:`~lightning_modules.PrimalDualModule` checkpoints for evaluation.

A checkpoint written by ``pyg-aggnn fit`` stores the policy's configuration among its
hyper-parameters. A module trained from Python keeps only its weights;
:func:`save_module` therefore also writes the policy's ``{"class_path", "init_args"}``
under :data:`POLICY_KEY`. :func:`load_policy` rebuilds from either the policy and the
settings it acts with (an :class:`~pyg_aggnn.on_air.OnAirPolicy`: mode, power map, law,
seed, warm-up) without the training framework;
:func:`lightning_modules.checkpoints.load_module` rebuilds the whole training module.

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

from pyg_aggnn.data.config import resolve_class
from pyg_aggnn.nn.policy import PowerPolicy
from pyg_aggnn.on_air import OnAirPolicy, default_policy_config

__all__ = [
    "POLICY_KEY",
    "SCENARIO_KEY",
    "CheckpointError",
    "read_checkpoint",
    "policy_from_config",
    "save_module",
    "load_policy",
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


def _load_bytes(data: bytes, name: str, policy_only: bool = False) -> dict[str, Any]:
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
    _check_class_paths(checkpoint, name, policy_only)
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


def _check_class_paths(checkpoint: dict[str, Any], name: str, policy_only: bool = False) -> None:
    """Refuse dotted paths into modules that are not imported: rebuilding the policy or
    the scenario would import them, and importing a module runs its code. With
    ``policy_only``, only the configuration that rebuilds the policy is checked (nothing
    else of the file is built).
    """
    hparams = checkpoint.get("hyper_parameters")
    if isinstance(hparams, Mapping):  # Lightning checks its own instantiator against a list
        hparams = {k: v for k, v in hparams.items() if k != "_instantiator"}
    if policy_only:
        stored = [_policy_config(checkpoint)]
    else:
        stored = [hparams, checkpoint.get(POLICY_KEY), checkpoint.get(SCENARIO_KEY)]
    for value in _strings(stored):
        module = value.rpartition(".")[0]
        if _DOTTED_PATH.fullmatch(value) and module not in sys.modules:
            raise CheckpointError(
                f"checkpoint {name!r} is refused: it names {value!r} from the module "
                f"{module!r}, which is not imported; import it first if you trust the file"
            )


def _policy_config(checkpoint: Mapping[str, Any]) -> Any:
    """The stored ``{"class_path", "init_args"}`` of the policy, or ``None``."""
    if POLICY_KEY in checkpoint:
        return checkpoint[POLICY_KEY]
    hparams = checkpoint.get("hyper_parameters")
    if not isinstance(hparams, Mapping) or "policy" not in hparams:
        return None
    # a module trained with the default policy stores None
    return default_policy_config() if hparams["policy"] is None else hparams["policy"]


def _read(path: str | Path, policy_only: bool = False) -> tuple[bytes, dict[str, Any]]:
    name = str(path)
    if not Path(path).is_file():
        raise CheckpointError(f"checkpoint must be an existing file, got {name!r}")
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(f"checkpoint {name!r} cannot be read ({error.strerror})") from None
    return data, _load_bytes(data, name, policy_only)


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


def load_policy(path: str | Path, map_location: str | torch.device = "cpu") -> OnAirPolicy:
    """Rebuild the trained policy of a checkpoint with the settings it acts with, from
    the stored configuration and weights alone (no training framework), in eval mode.

    Its :meth:`~pyg_aggnn.on_air.OnAirPolicy.allocate` puts on the air exactly what the
    training module's ``allocate`` does. Only the policy's configuration is rebuilt, so
    only its class path must name an imported module.

    Raises:
        CheckpointError: (a ``ValueError``) the file is missing, damaged or foreign,
            holds no policy that can be rebuilt, or is refused because loading it would
            run code.
    """
    name = str(path)
    _, checkpoint = _read(path, policy_only=True)
    hparams = dict(checkpoint.get("hyper_parameters") or {})
    config = _policy_config(checkpoint)
    state = checkpoint["state_dict"]
    weights = {k[len("policy.") :]: v for k, v in state.items() if k.startswith("policy.")}
    if not weights and config is not None:
        raise _damaged(name, "its policy cannot be rebuilt: it holds no policy weights")
    if config is None:
        raise _damaged(
            name,
            "it holds no policy configuration: save it with "
            "pyg_aggnn.evaluation.checkpoints.save_module or train with pyg-aggnn fit",
        )
    try:
        policy = policy_from_config(config)
        policy.load_state_dict(weights)
        log_scale = state.get("log_scale")
        on_air = OnAirPolicy(
            policy,
            **{k: hparams[k] for k in ("mode", "distribution", "seed") if k in hparams},
            # written before the power map was a choice: its model-based powers were p0 sigmoid
            power_map=hparams.get("power_map", "sigmoid"),
            scale=None if log_scale is None else log_scale.exp(),
            warmup_slots=hparams.get("warmup_slots"),
        )
    except Exception as error:  # a constructor's check, or weights of another model
        raise _damaged(name, f"its policy cannot be rebuilt: {_reason(error)}") from error
    return on_air.to(map_location).eval()


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
