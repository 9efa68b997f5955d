import pytest
from jsonargparse import ArgumentParser

import pyg_aggnn.nn as nn_pkg
from pyg_aggnn.nn import WCGCN, AggGNN, GenericGNNPolicy, MLPPolicy, PowerPolicy, SelectionGNN
from pyg_aggnn.wireless import AdHoc

CONFIGS = {
    "agg-gnn": {"class_path": "pyg_aggnn.nn.AggGNN", "init_args": {"K": 5, "kernel_size": 5}},
    "selection": {"class_path": "pyg_aggnn.nn.SelectionGNN", "init_args": {"num_layers": 2}},
    "wcgcn": {"class_path": "pyg_aggnn.nn.WCGCN", "init_args": {"message_channels": [16, 16]}},
    "mlp": {"class_path": "pyg_aggnn.nn.MLPPolicy", "init_args": {"num_links": 7}},
    "gcn": {
        "class_path": "pyg_aggnn.nn.GenericGNNPolicy",
        "init_args": {
            "model": {
                "class_path": "torch_geometric.nn.GCN",
                "init_args": {
                    "in_channels": 2,
                    "hidden_channels": 8,
                    "num_layers": 2,
                    "out_channels": 1,
                },
            }
        },
    },
}
TYPES = {
    "agg-gnn": AggGNN,
    "selection": SelectionGNN,
    "wcgcn": WCGCN,
    "mlp": MLPPolicy,
    "gcn": GenericGNNPolicy,
}


def test_exports():
    for name in nn_pkg.__all__:
        assert hasattr(nn_pkg, name)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_models_build_from_class_path_configs(name):
    parser = ArgumentParser()
    parser.add_argument("--model", type=PowerPolicy)
    config = parser.parse_object({"model": CONFIGS[name]})
    model = parser.instantiate_classes(config).model
    assert type(model) is TYPES[name]
    episode = AdHoc(7).episode(6, seed=0)
    probability = model(episode)
    assert probability.shape == (7,) and bool(((probability > 0) & (probability < 1)).all())
    assert model.logits(episode, all_slots=True).shape == (7, 6)
