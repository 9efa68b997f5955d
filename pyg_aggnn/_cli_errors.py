"""How every ``pyg-aggnn`` command reports a bad input.

A bad value (an argument, a config entry, a checkpoint or dataset file) ends the command
with one line ``error: <what>`` on stderr and exit status 2, or 1 for a dataset on disk
that cannot be used; an argument that does not parse prints the usage line first.
``--debug`` anywhere on the command line, or ``PYG_AGGNN_DEBUG=1``, shows the full
traceback instead. Anything else (a bug) keeps its traceback.

Only the standard library is imported here, so that ``pyg-aggnn --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, NoReturn

__all__ = [
    "DEBUG_FLAG",
    "DEBUG_ENV",
    "ArgumentParser",
    "split_debug",
    "one_line",
    "usage_line",
    "exit_status",
    "report",
]

DEBUG_FLAG = "--debug"
DEBUG_ENV = "PYG_AGGNN_DEBUG"

# exceptions that describe a bad value rather than a bug, by the module that defines them
# (looked up only once that module is imported)
_BAD_VALUES = (
    ("lightning.fabric.utilities.exceptions", "MisconfigurationException"),
    ("yaml", "YAMLError"),
)


def split_debug(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether the traceback is wanted (``--debug`` or ``PYG_AGGNN_DEBUG``), and ``argv``
    without ``--debug``.
    """
    rest = [arg for arg in argv if arg != DEBUG_FLAG]
    wanted = os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
    return wanted or len(rest) != len(argv), rest


def one_line(text: object) -> str:
    """``text`` with its lines joined by spaces."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def usage_line(prog: str, positionals: str = "") -> str:
    """``usage: <prog> [options] <positionals>`` with a pointer to ``--help``."""
    words = ["usage:", prog, "[options]", positionals]
    return " ".join(w for w in words if w) + f"  ('{prog} --help' lists the options)"


def exit_status(error: BaseException) -> int | None:
    """2 for a bad value, 1 for a dataset on disk that cannot be used, ``None`` for an
    exception that is not about the input (it keeps its traceback).
    """
    storage = sys.modules.get("pyg_aggnn.data.storage")
    if storage is not None and isinstance(error, storage.DatasetError):
        return 1
    bad = (ValueError, argparse.ArgumentError, FileNotFoundError, IsADirectoryError)
    bad += (NotADirectoryError, PermissionError)
    for module, name in _BAD_VALUES:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            bad += (cls,)
    return 2 if isinstance(error, bad) else None


def report(error: BaseException, stream: IO[str] | None = None) -> int | None:
    """Print ``error: <what>`` for a bad input and return its exit status; ``None``
    (nothing printed) for any other exception.
    """
    status = exit_status(error)
    if status is not None:
        what = one_line(error) or type(error).__name__
        print(f"error: {what}", file=sys.stderr if stream is None else stream)
    return status


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are the usage line and ``error: <what>``
    (exit status 2), however many options the command has.
    """

    def error(self, message: str) -> NoReturn:
        formatter = argparse.HelpFormatter(self.prog, width=1 << 16)
        positionals = [a for a in self._actions if not a.option_strings]
        formatter.add_usage(None, positionals, [], prefix="")
        words = formatter.format_help().strip()[len(self.prog) :].strip()
        self.exit(2, f"{usage_line(self.prog, words)}\nerror: {one_line(message)}\n")
