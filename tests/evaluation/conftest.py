import pytest

from pyg_aggnn.data.config import scenario_to_config
from pyg_aggnn.experiments.runs import RunSpec, train_run
from pyg_aggnn.wireless import AdHoc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A 2-step Agg-GNN run on a 5-link ad-hoc network (its checkpoint is what counts)."""
    spec = RunSpec(
        name="tiny",
        policy={
            "class_path": "pyg_aggnn.nn.AggGNN",
            "init_args": {"K": 3, "num_layers": 2, "hidden_channels": 2, "kernel_size": 3},
        },
        scenario=scenario_to_config(AdHoc(5)),
        steps=2,
        eval_every=1,
        batch_size=2,
        val_size=2,
        num_slots=6,
        module={"warmup_slots": 2, "num_exchanges": 3},
    )
    return train_run(spec, tmp_path_factory.mktemp("runs"), log=lambda text: None)
