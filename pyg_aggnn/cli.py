"""The ``pyg-aggnn`` command line.

Sub-commands are looked up in :data:`COMMANDS` and imported only when used, so that
``pyg-aggnn --help`` stays fast. Each entry maps a name to ``"module:function"``; the
function receives the remaining arguments and returns an exit code.
"""

from __future__ import annotations

import importlib
import sys

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
    lines = ["usage: pyg-aggnn <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'pyg-aggnn <command> --help' for the options of a command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pyg-aggnn`` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"pyg-aggnn: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, function = COMMANDS[name][0].split(":")
    result = getattr(importlib.import_module(module), function)(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
