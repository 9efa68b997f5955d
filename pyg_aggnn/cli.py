"""The ``pyg-aggnn`` command line.

Sub-commands are looked up in :data:`COMMANDS` and imported only when used, so that
``pyg-aggnn --help`` stays fast. Each entry maps a name to ``"module:function"``; the
function receives the remaining arguments and returns an exit code.

A bad input ends any command with one line ``error: <what>`` on stderr and exit status 2
(see :mod:`pyg_aggnn._cli_errors`); ``--debug`` or ``PYG_AGGNN_DEBUG=1`` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys

from pyg_aggnn._cli_errors import DEBUG_ENV, DEBUG_FLAG, report, split_debug

__all__ = ["main", "COMMANDS"]

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("pyg_aggnn.demo:main", "simulate an ad-hoc network and print what it looks like"),
    "generate": ("pyg_aggnn.data.generate:main", "generate a dataset of episodes to disk"),
    "evaluate": (
        "pyg_aggnn.evaluation.cli:main",
        "evaluate checkpoints and baselines, transference",
    ),
    "reproduce": (
        "pyg_aggnn.experiments.cli:main",
        "re-run an experiment of the papers, with figures",
    ),
    "bench": ("pyg_aggnn.bench.cli:main", "run the speed and scale benchmarks"),
    "train": ("lightning_modules.cli:train", "train a policy, then print it against the baselines"),
    "fit": ("lightning_modules.cli:fit", "train a policy from a config (LightningCLI)"),
    "validate": ("lightning_modules.cli:validate", "evaluate a checkpoint on validation episodes"),
    "test": ("lightning_modules.cli:test", "evaluate a checkpoint on test episodes"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: pyg-aggnn [{DEBUG_FLAG}] <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'pyg-aggnn <command> --help' for the options of a command."]
    lines += [
        f"A bad input prints 'error: <what>' and exits with 2; {DEBUG_FLAG} (or "
        f"{DEBUG_ENV}=1) shows the traceback."
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pyg-aggnn`` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug, argv = split_debug(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        usage = _usage().splitlines()[0]
        known = ", ".join(COMMANDS)
        print(f"{usage}\nerror: command must be one of {known}, got {name!r}", file=sys.stderr)
        return 2
    module, function = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module), function)
    try:
        result = command(rest)
    except Exception as error:
        status = None if debug else report(error)
        if status is None:
            raise
        return status
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
