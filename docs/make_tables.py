"""Rewrite the measured tables of the docs from the reports they come from.

Every table region of ``docs/*.md`` (and ``README.md``) is fenced by ``<!-- name -->`` and
``<!-- /name -->``; this script replaces what lies between the markers of every name in
:data:`TABLES` by the table rendered from its report, so that no measured table is
edited by hand::

    python docs/make_tables.py            # rewrite every region
    python docs/make_tables.py --check    # exit 1 if a region differs from its report
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _train_quality():
    return importlib.import_module("pyg_aggnn.bench.train_quality")


def model_based_table() -> str:
    """The model-based seeds table (``pyg-aggnn bench train_quality --table``)."""
    rows = json.loads((ROOT / "docs" / "results" / "model_based_seeds.json").read_text())
    return _train_quality().markdown(rows)


def model_free_table() -> str:
    """The model-free seeds table (``pyg-aggnn bench train_quality --table``)."""
    rows = json.loads((ROOT / "docs" / "results" / "model_free_seeds.json").read_text())
    return _train_quality().model_free_markdown(rows)


def model_free_mode_table() -> str:
    """The shipped configs' model-free rows with the policies' mode logged beside their
    draws (``pyg-aggnn bench train_quality --json``, rerun on one machine).
    """
    rows = json.loads((ROOT / "docs" / "results" / "model_free_mode.json").read_text())
    return _train_quality().model_free_markdown(rows)


def architectures_table() -> str:
    """The architecture comparison over training seeds, from the ``architectures.csv``
    of ``pyg-aggnn reproduce architectures --quick --seed S`` copied to
    ``docs/results/architectures_seeds/seed<S>.csv``.
    """
    tables = sorted((ROOT / "docs" / "results" / "architectures_seeds").glob("seed*.csv"))
    module = importlib.import_module("pyg_aggnn.experiments.architectures")
    return module.seeds_markdown(tables)


#: Region name -> the function that renders its table from the reports.
TABLES: dict[str, Callable[[], str]] = {
    "model-based-table": model_based_table,
    "model-free-table": model_free_table,
    "model-free-mode-table": model_free_mode_table,
    "architectures-table": architectures_table,
}


def rewrite(text: str, tables: dict[str, str]) -> str:
    """``text`` with the region of every name in ``tables`` replaced by its table."""
    for name, table in tables.items():
        pattern = re.compile(
            rf"(<!-- {re.escape(name)} -->\n).*?(\n<!-- /{re.escape(name)} -->)", re.DOTALL
        )
        text = pattern.sub(lambda match, table=table: match.group(1) + table + match.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args()
    tables = {name: render() for name, render in TABLES.items()}
    stale = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        new = rewrite(text, tables)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(new)
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
