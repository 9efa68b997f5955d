import csv
import json

import torch

from pyg_aggnn.evaluation.evaluator import MethodResult
from pyg_aggnn.evaluation.report import format_table, summary_rows, write_results


def _result(offset: float) -> MethodResult:
    values = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) + offset
    per_network = {
        "sum_rate": values,
        "power": values,
        "power_per_link": values / 2,
        "violation": values - 2,
        "served": torch.full((3,), 0.5, dtype=torch.float64),
    }
    return MethodResult(per_network, torch.linspace(0, 1, 6, dtype=torch.float64), seconds=0.5)


def test_files_hold_every_setting_and_method(tmp_path):
    results = {"m=5": {"agg": _result(0.0), "equal": _result(1.0)}, "m=10": {"agg": _result(2.0)}}
    paths = write_results(tmp_path, results, meta={"seed": 3})
    with paths["summary"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["setting"], r["method"]) for r in rows] == [
        ("m=5", "agg"),
        ("m=5", "equal"),
        ("m=10", "agg"),
    ]
    assert float(rows[1]["sum_rate"]) == 3.0 and int(rows[0]["networks"]) == 3
    with paths["networks"].open() as handle:
        assert len(list(csv.DictReader(handle))) == 9
    with paths["link_rates"].open() as handle:
        histogram = list(csv.DictReader(handle))
    counts = [int(r["links"]) for r in histogram if r["setting"] == "m=5" and r["method"] == "agg"]
    assert sum(counts) == 6
    document = json.loads(paths["json"].read_text())
    assert document["config"] == {"seed": 3} and len(document["results"]) == 3


def test_table_has_a_line_per_row():
    rows = summary_rows({"m=5": {"agg": _result(0.0), "random": _result(-0.5)}})
    table = format_table(rows).splitlines()
    assert len(table) == 4 and "sum rate" in table[0] and "95% CI" in table[0]
    assert table[2].startswith("m=5") and "agg" in table[2] and "2.000" in table[2]
