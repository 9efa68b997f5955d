"""Scenarios as plain configuration, and the canonical JSON that names a dataset.

A scenario is written as ``{"class_path": ..., "init_args": {...}}`` (the
``LightningCLI`` / ``jsonargparse`` convention), with the same form nested for objects
such as ``activation`` and ``state``. The scenario classes keep every ``__init__``
argument under the attribute of the same name, so :func:`scenario_to_config` reads the
*resolved* values back (``p_max_total: null`` becomes the number it defaulted to) and
two configurations that build the same scenario have the same canonical form.

:func:`canonical_json` is the byte-exact text that is hashed: sorted keys, no
whitespace, ASCII, Python's shortest round-trip ``repr`` for every float, no ``NaN`` or
infinity. :func:`config_hash` is its SHA-256 and :func:`short_hash` the first
:data:`SHORT_HASH_LENGTH` hex digits used in directory names.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from pyg_aggnn.wireless.activation import Activation
from pyg_aggnn.wireless.scenario import Scenario
from pyg_aggnn.wireless.states import NodeState

__all__ = [
    "scenario_to_config",
    "scenario_from_config",
    "object_to_config",
    "object_from_config",
    "resolve_class",
    "canonical_json",
    "config_hash",
    "short_hash",
    "SHORT_HASH_LENGTH",
]

SHORT_HASH_LENGTH = 10

# Short class paths ("AdHoc") are looked up here; canonical paths use this module when
# it exports the class, so that moving a class between files keeps the hash.
_PUBLIC_MODULE = "pyg_aggnn.wireless"
# Nested objects are only built from these families (a config never calls arbitrary code).
_NESTED_BASES: tuple[type, ...] = (Activation, NodeState)


def _class_path(cls: type) -> str:
    public = importlib.import_module(_PUBLIC_MODULE)
    if getattr(public, cls.__name__, None) is cls:
        return f"{_PUBLIC_MODULE}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    if cls.__init__ is object.__init__:
        return {}
    params = dict(inspect.signature(cls.__init__).parameters)
    params.pop("self", None)
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ValueError(
                f"{cls.__name__}.__init__ takes *{name}; only named arguments can be "
                "written as a config"
            )
    return params


def _to_json_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite to be written as a config, got {value!r}")
        return value
    if isinstance(value, Tensor):
        return _to_json_value(value.tolist(), where)
    if isinstance(value, (list, tuple)):
        return [_to_json_value(item, f"{where}[{k}]") for k, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(key): _to_json_value(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, _NESTED_BASES):
        return object_to_config(value, where)
    raise ValueError(
        f"{where} holds a {type(value).__name__}, which cannot be written as a config "
        "(allowed: numbers, strings, lists, tensors, activation and state objects)"
    )


def object_to_config(obj: object, where: str | None = None) -> dict[str, Any]:
    """``{"class_path", "init_args"}`` of ``obj`` from its ``__init__`` signature.

    Every ``__init__`` argument must be stored under the attribute of the same name.

    Args:
        obj: a scenario, activation or state object.
        where: name used in error messages (default: the class name).
    """
    cls = type(obj)
    where = cls.__name__ if where is None else where
    init_args = {}
    for name in _init_parameters(cls):
        if not hasattr(obj, name):
            raise ValueError(
                f"{where}: {cls.__name__} does not keep its argument {name!r} as an "
                "attribute, so it cannot be written as a config"
            )
        init_args[name] = _to_json_value(getattr(obj, name), f"{where}.{name}")
    return {"class_path": _class_path(cls), "init_args": init_args}


def scenario_to_config(scenario: Scenario) -> dict[str, Any]:
    """The resolved ``{"class_path", "init_args"}`` configuration of ``scenario``.

    Derived attributes (e.g. ``num_links`` of :class:`~pyg_aggnn.wireless.Cellular`) are
    not ``__init__`` arguments and are left out; defaults that depend on other arguments
    are written as the values they resolved to.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    return object_to_config(scenario, "scenario")


def resolve_class(
    class_path: object, bases: tuple[type, ...], where: str, default_module: str = _PUBLIC_MODULE
) -> type:
    """The class named by ``class_path`` (a dotted path, or a bare name exported by
    ``default_module``); ``ValueError`` unless it subclasses one of ``bases``.
    """
    if not isinstance(class_path, str) or not class_path:
        raise ValueError(f"{where}.class_path must be a non-empty string, got {class_path!r}")
    module_name, _, name = class_path.rpartition(".")
    module_name = module_name or default_module
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        cls = None
    allowed = " or ".join(base.__name__ for base in bases)
    if not isinstance(cls, type) or not issubclass(cls, bases):
        raise ValueError(
            f"{where}.class_path must name a subclass of {allowed}, got {class_path!r}"
        )
    return cls


def _annotation_classes(annotation: Any) -> tuple[type, ...]:
    if isinstance(annotation, type):
        return (annotation,)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if isinstance(a, type))
    return ()


def _from_json_value(value: Any, hint: Any, where: str) -> Any:
    classes = _annotation_classes(hint)
    if isinstance(value, Mapping) and "class_path" in value:
        bases = tuple(c for c in classes if issubclass(c, _NESTED_BASES)) or _NESTED_BASES
        return object_from_config(value, bases, where)
    if isinstance(value, list) and Tensor in classes:
        floating = any(isinstance(v, float) for v in _flatten(value))
        return torch.tensor(value, dtype=torch.float64 if floating else torch.long)
    return value


def _flatten(value: Any):
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def object_from_config(
    config: Mapping[str, Any], bases: tuple[type, ...] = _NESTED_BASES, where: str = "config"
) -> Any:
    """Build an object from ``{"class_path", "init_args"}``.

    Args:
        config: the configuration; ``class_path`` is a dotted path or a bare class name
            exported by :mod:`pyg_aggnn.wireless`.
        bases: the class must subclass one of these (default: activation and state
            models).
        where: name of the configuration in error messages (default: ``"config"``).
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"{where} must be a mapping with class_path and init_args, got {config!r}")
    extra = sorted(set(config) - {"class_path", "init_args"})
    if extra:
        raise ValueError(f"{where} has unknown keys {extra}; allowed: ['class_path', 'init_args']")
    cls = resolve_class(config.get("class_path"), bases, where)
    init_args = config.get("init_args") or {}
    if not isinstance(init_args, Mapping):
        raise ValueError(f"{where}.init_args must be a mapping, got {init_args!r}")
    params = _init_parameters(cls)
    unknown = sorted(set(init_args) - set(params))
    if unknown:
        raise ValueError(
            f"{where}.init_args has unknown arguments {unknown} for {cls.__name__}; "
            f"allowed: {sorted(params)}"
        )
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations: fall back to the raw values
        hints = {}
    kwargs = {
        name: _from_json_value(value, hints.get(name), f"{where}.init_args.{name}")
        for name, value in init_args.items()
    }
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"{where}: {error}") from None
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def scenario_from_config(config: Mapping[str, Any] | Scenario) -> Scenario:
    """Build the scenario described by ``{"class_path", "init_args"}`` (inverse of
    :func:`scenario_to_config`); a :class:`Scenario` instance is returned as is.
    """
    if isinstance(config, Scenario):
        return config
    return object_from_config(config, (Scenario,), "scenario")


def canonical_json(config: Any) -> str:
    """Byte-stable JSON text of ``config``: sorted keys, compact separators, ASCII."""
    return json.dumps(
        config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def config_hash(config: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``config``."""
    return hashlib.sha256(canonical_json(config).encode("ascii")).hexdigest()


def short_hash(config: Any) -> str:
    """The first :data:`SHORT_HASH_LENGTH` hex digits of :func:`config_hash`."""
    return config_hash(config)[:SHORT_HASH_LENGTH]
