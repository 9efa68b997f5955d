"""The measured tables of the docs are the ones their reports render."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make_tables():
    spec = importlib.util.spec_from_file_location("make_tables", ROOT / "docs" / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_table_region_matches_its_report():
    make_tables = _make_tables()
    tables = {name: render() for name, render in make_tables.TABLES.items()}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = set()
    for path in pages:
        text = path.read_text()
        assert make_tables.rewrite(text, tables) == text, f"{path.name}: run docs/make_tables.py"
        found |= {name for name in tables if f"<!-- {name} -->" in text}
    assert found == set(tables)  # every rendered table has a home
