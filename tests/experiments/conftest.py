import csv
import math
from types import SimpleNamespace

import matplotlib.image
import pytest

from pyg_aggnn.experiments.cli import main as reproduce


def read_rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def assert_figure(stem):
    """PNG and PDF exist, and the PNG is not a blank page."""
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    assert png.stat().st_size > 10_000 and pdf.stat().st_size > 5_000
    pixels = matplotlib.image.imread(png)
    assert pixels.std() > 0.05
    assert pdf.read_bytes().startswith(b"%PDF")


def assert_summary_rows(rows, methods):
    """Every setting lists the methods; values in range; the CI holds the mean."""
    settings = {row["setting"] for row in rows}
    for setting in settings:
        found = [row["method"] for row in rows if row["setting"] == setting]
        assert set(methods) <= set(found), (setting, found)
    for row in rows:
        rate, low, high = (
            float(row[k]) for k in ("sum_rate", "sum_rate_ci_low", "sum_rate_ci_high")
        )
        assert rate >= 0 and low <= rate + 1e-9 and rate <= high + 1e-9
        assert 0 <= float(row["served"]) <= 1
        assert float(row["violation"]) >= -1 - 1e-9
        assert float(row["power_per_link"]) >= 0
        assert int(row["networks"]) >= 1 and math.isfinite(float(row["link_rate_q50"]))


@pytest.fixture(scope="session")
def check():
    """The helpers above, for the test modules (imported by path, they share no module)."""
    return SimpleNamespace(
        read_rows=read_rows, assert_figure=assert_figure, assert_summary_rows=assert_summary_rows
    )


@pytest.fixture(scope="session")
def tiny_outputs(tmp_path_factory):
    """Every experiment in its tiny budget, once for all the tests of this folder."""
    out = tmp_path_factory.mktemp("reproduce")
    assert reproduce(["all", "--tiny", "--out", str(out), "--threads", "1"]) == 0
    return out
