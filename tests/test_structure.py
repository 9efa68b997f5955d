"""The library stands alone: only the entry points that train import the training
adapter (``lightning_modules``) or Lightning itself.
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pyg_aggnn"
#: The entry points that train: the command line, the experiments and the benchmarks.
TRAINING_ENTRY_POINTS = ("cli.py", "experiments", "bench")
ADAPTERS = ("lightning_modules", "lightning", "pytorch_lightning")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _library_files() -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] not in TRAINING_ENTRY_POINTS:
            files.append(path)
    return files


@pytest.mark.parametrize("path", _library_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_library_never_imports_the_training_adapter(path):
    adapters = {name for name in _imported_modules(path) if name.split(".")[0] in ADAPTERS}
    assert not adapters, f"{path.relative_to(PACKAGE)} imports {sorted(adapters)}"


def test_evaluation_runs_with_the_adapter_blocked(tmp_path):
    # an import hook refuses lightning_modules and Lightning; the library still
    # simulates, builds baselines, puts a policy on the air and evaluates it
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("lightning_modules", "lightning"):
                    raise ImportError(f"blocked: {name}")

        sys.meta_path.insert(0, Block())
        import torch
        from pyg_aggnn.data import OnlineEpisodes
        from pyg_aggnn.evaluation import (
            BaselineAllocator, PolicyAllocator, baseline_suite, evaluate, simulate_episodes
        )
        from pyg_aggnn.nn import AggGNN
        from pyg_aggnn.on_air import OnAirPolicy
        from pyg_aggnn.problem import PowerProblem
        from pyg_aggnn.wireless import AdHoc
        import pyg_aggnn.evaluation.cli, pyg_aggnn.data.generate, pyg_aggnn.decentralized

        episodes = simulate_episodes(AdHoc(5), 2, 6)
        methods = {"agg": PolicyAllocator(OnAirPolicy(AggGNN.compact()))}
        methods.update({k: BaselineAllocator(b) for k, b in baseline_suite(max_links=5).items()})
        results = evaluate(methods, episodes, warmup_slots=4)
        assert set(results) >= {"agg", "wmmse", "exhaustive"}, set(results)
        assert not any(m.split(".")[0] in ("lightning_modules", "lightning") for m in sys.modules)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
