import pytest

from pyg_aggnn.experiments.beamforming import SETTINGS

TINY = SETTINGS["tiny"]


def test_three_studies_in_percent_of_wmmse(tiny_outputs, check):
    folder = tiny_outputs / "beamforming"
    methods = ["wcgcn", "wmmse", "wmmse_local", "mrt"]
    expected = {
        "distances": len(TINY["distances"]),
        "sizes": 1 + len(TINY["sizes"]),
        "density": 1 + len(TINY["dense"]),
    }
    for study, settings in expected.items():
        check.assert_figure(folder / f"beamforming_{study}")
        rows = check.read_rows(folder / f"beamforming_{study}.csv")
        check.assert_summary_rows(rows, methods)
        assert len({r["setting"] for r in rows}) == settings
        for row in rows:
            if row["method"] == "wmmse":
                assert float(row["percent_of_wmmse"]) == pytest.approx(100.0)
            assert float(row["power_per_link"]) <= 1.0 + 1e-6  # ||v_k||^2 <= p0 = 1
    sizes = check.read_rows(folder / "beamforming_sizes.csv")
    assert {int(r["size"]) for r in sizes} == {TINY["links"], *TINY["sizes"]}
