r"""Results as a text table, CSV and JSON files."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from pyg_aggnn.evaluation.evaluator import MethodResult
from pyg_aggnn.evaluation.metrics import METRICS

__all__ = ["summary_rows", "format_table", "write_results", "write_csv", "TABLE_COLUMNS"]

#: ``(column, header, format)`` of the printed table.
TABLE_COLUMNS = (
    ("setting", "setting", "{}"),
    ("method", "method", "{}"),
    ("networks", "nets", "{:d}"),
    ("sum_rate", "sum rate", "{:.3f}"),
    ("sum_rate_ci", "95% CI", "{}"),
    ("power_per_link", "power/link", "{:.3f}"),
    ("violation", "violation", "{:+.3f}"),
    ("served", "served", "{:.1%}"),
    ("link_rate_q50", "median link", "{:.3f}"),
    ("seconds", "time [s]", "{:.2f}"),
)

HISTOGRAM_BINS = 40


def summary_rows(
    results: Mapping[str, Mapping[str, MethodResult]], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """One row per ``(setting, method)`` of ``{setting: {method: MethodResult}}``."""
    rows = []
    for setting, methods in results.items():
        for method, result in methods.items():
            rows.append({"setting": setting, "method": method, **result.summary(confidence)})
    return rows


def network_rows(results: Mapping[str, Mapping[str, MethodResult]]) -> list[dict[str, Any]]:
    """One row per ``(setting, method, network)`` with the per-network metrics."""
    rows = []
    for setting, methods in results.items():
        for method, result in methods.items():
            values = {name: result.per_network[name].tolist() for name in METRICS}
            for k in range(result.num_networks):
                row = {"setting": setting, "method": method, "network": k}
                row.update({name: values[name][k] for name in METRICS})
                rows.append(row)
    return rows


def link_rate_histograms(
    results: Mapping[str, Mapping[str, MethodResult]], bins: int = HISTOGRAM_BINS
) -> list[dict[str, Any]]:
    """Per-link rate distribution: a histogram per setting on common bins for all methods."""
    rows = []
    for setting, methods in results.items():
        rates = [result.link_rate for result in methods.values()]
        top = max(float(r.max()) for r in rates if r.numel()) if rates else 1.0
        top = top if top > 0 else 1.0
        edges = torch.linspace(0.0, top, bins + 1, dtype=torch.float64)
        for method, result in methods.items():
            counts = torch.histc(result.link_rate, bins=bins, min=0.0, max=top)
            for k in range(bins):
                rows.append(
                    {
                        "setting": setting,
                        "method": method,
                        "bin_low": float(edges[k]),
                        "bin_high": float(edges[k + 1]),
                        "links": int(counts[k]),
                    }
                )
    return rows


def _cell(row: Mapping[str, Any], column: str, fmt: str) -> str:
    if column == "sum_rate_ci":
        return f"[{row['sum_rate_ci_low']:.3f}, {row['sum_rate_ci_high']:.3f}]"
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(int(value) if fmt == "{:d}" else value)


def format_table(rows: Sequence[Mapping[str, Any]], columns=TABLE_COLUMNS) -> str:
    """The rows as an aligned text table (one line per row)."""
    cells = [[header for _, header, _ in columns]]
    cells += [[_cell(row, column, fmt) for column, _, fmt in columns] for row in rows]
    widths = [max(len(line[k]) for line in cells) for k in range(len(columns))]
    lines = []
    for index, line in enumerate(cells):
        text = [
            value.ljust(width) if k < 2 else value.rjust(width)
            for k, (value, width) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(text).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_csv(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write dictionaries as CSV (columns in first-seen order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_results(
    out_dir: str | Path,
    results: Mapping[str, Mapping[str, MethodResult]],
    meta: Mapping[str, Any] | None = None,
    confidence: float = 0.95,
) -> dict[str, Path]:
    """Write ``summary.csv``, ``networks.csv``, ``link_rates.csv`` and ``summary.json``.

    Args:
        out_dir: output directory (created).
        results: ``{setting: {method: MethodResult}}``.
        meta: what was evaluated, how (stored in the JSON under ``"config"``).
        confidence: coverage of the sum rate's interval (default: ``0.95``).

    Returns:
        ``{kind: path}`` of the files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(results, confidence)
    histograms = link_rate_histograms(results)
    paths = {
        "summary": write_csv(out / "summary.csv", rows),
        "networks": write_csv(out / "networks.csv", network_rows(results)),
        "link_rates": write_csv(out / "link_rates.csv", histograms),
    }
    document = {"config": dict(meta or {}), "confidence": confidence, "results": rows}
    paths["json"] = out / "summary.json"
    paths["json"].write_text(json.dumps(document, indent=2, default=str) + "\n")
    return paths
