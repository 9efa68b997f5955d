r"""The Markdown index of a ``reproduce`` output folder: every experiment's figures and
tables, with a results table of their headline numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pyg_aggnn.experiments.common import Output

__all__ = ["write_output", "write_index", "OUTPUT_FILE", "INDEX_FILE"]

OUTPUT_FILE = "output.json"
INDEX_FILE = "index.md"

_COLUMNS = (
    ("setting", "setting", "{}"),
    ("method", "method", "{}"),
    ("sum_rate", "sum rate [nats/slot]", "{:.3f}"),
    ("sum_rate_ci", "95% CI", "{}"),
    ("power_per_link", "power/link", "{:.3f}"),
    ("violation", "violation", "{:+.3f}"),
    ("ratio", "ratio", "{:.3f}"),
    ("percent_of_wmmse_central", "% of WMMSE (central)", "{:.1f}"),
)


def write_output(folder: Path, output: Output, seconds: float, budget: Mapping) -> Path:
    """Record what an experiment produced in ``folder/output.json``."""
    document = asdict(output)
    document["figures"] = [str(Path(p).relative_to(folder.parent)) for p in output.figures]
    document["tables"] = [str(Path(p).relative_to(folder.parent)) for p in output.tables]
    document["seconds"] = seconds
    document["budget"] = dict(budget)
    path = folder / OUTPUT_FILE
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def _cell(row: Mapping[str, Any], key: str, fmt: str) -> str:
    if key == "sum_rate_ci":
        if "sum_rate_ci_low" not in row:
            return ""
        return f"[{row['sum_rate_ci_low']:.3f}, {row['sum_rate_ci_high']:.3f}]"
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return fmt.format(value)


def _table(rows: list[Mapping[str, Any]]) -> list[str]:
    columns = [c for c in _COLUMNS if any(_cell(r, c[0], c[2]) for r in rows)]
    lines = ["| " + " | ".join(header for _, header, _ in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_cell(row, key, fmt) for key, _, fmt in columns) + " |")
    return lines


def write_index(root: str | Path, order: list[str] | None = None) -> Path:
    """Write ``root/index.md`` from the ``output.json`` of every experiment in ``root``.

    Args:
        root: the ``reproduce`` output folder.
        order: experiment names in the order to list them (others follow, sorted).
    """
    root = Path(root)
    found = {path.parent.name: path for path in root.glob(f"*/{OUTPUT_FILE}")}
    names = [n for n in (order or []) if n in found] + sorted(set(found) - set(order or []))
    lines = ["# Reproduced experiments", ""]
    total = 0.0
    budget_name = ""
    for name in names:
        document = json.loads(found[name].read_text())
        total += float(document.get("seconds", 0))
        budget_name = document.get("budget", {}).get("name", budget_name)
        lines += [f"## {name}", "", document["title"], ""]
        if document.get("notes"):
            lines += [document["notes"], ""]
        for figure in document["figures"]:
            lines += [f"![{name}]({figure}.png)", "", f"PDF: [{figure}.pdf]({figure}.pdf)", ""]
        if document["tables"]:
            links = ", ".join(f"[{Path(t).name}]({t})" for t in document["tables"])
            lines += [f"Tables: {links}", ""]
        if document.get("headline"):
            lines += _table(document["headline"]) + [""]
        lines += [f"Wall time: {document.get('seconds', 0) / 60:.1f} min", ""]
    lines.insert(2, f"Budget: `{budget_name}`; total wall time {total / 60:.1f} min.\n")
    path = root / INDEX_FILE
    path.write_text("\n".join(lines))
    return path
