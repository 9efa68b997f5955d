"""Any PyG model as an allocation policy."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from pyg_aggnn._validation import check_choice
from pyg_aggnn.nn.snapshot import SlotGraph, SnapshotPolicy

__all__ = ["GenericGNNPolicy"]

EDGE_INPUTS = ("edge_weight", "edge_attr", "none")


class GenericGNNPolicy(SnapshotPolicy):
    r"""Wrap a node-level PyG model (``GCN``, ``GAT``, ``GraphSAGE``, your own ...) so that
    it decides like every other policy.

    At the decision slot (or every slot, stacked) the model receives the node inputs
    ``x`` ``[N, F_in]``, the slot's graph ``edge_index`` (edges :math:`j \to i` with
    :math:`j \in \mathcal{N}_i(t)`, incl. self loops) and, depending on ``edge_input``,
    the compressed receiver-normalised shift weights :math:`\hat S_{ij}(t)` as
    ``edge_weight=`` (``[E]``, for ``GCN``, ``GraphConv``, ``TAGConv`` ...), as
    ``edge_attr=`` (``[E, 1]``, for ``GAT(edge_dim=1)``, ``GINE`` ...), or nothing. It
    must return one number per node (``[N]`` or ``[N, 1]``): the logit.

    Example:
        >>> from torch_geometric.nn import GAT, GCN
        >>> policy = GenericGNNPolicy(GCN(in_channels=2, hidden_channels=32,
        ...                               num_layers=3, out_channels=1))
        >>> policy = GenericGNNPolicy(GAT(2, 32, num_layers=2, out_channels=1, edge_dim=1),
        ...                           edge_input="edge_attr")

    In a LightningCLI config the wrapped model is a nested ``class_path``:

    .. code-block:: yaml

        model:
          class_path: pyg_aggnn.nn.GenericGNNPolicy
          init_args:
            model:
              class_path: torch_geometric.nn.GCN
              init_args: {in_channels: 2, hidden_channels: 32, num_layers: 3, out_channels: 1}

    Args:
        model (torch.nn.Module): the wrapped model, ``model(x, edge_index, ...)``; its
            input size must match the features (``in_channels`` of the policy).
        edge_input (str, optional): ``"edge_weight"``, ``"edge_attr"`` or ``"none"``.
            (default: :obj:`"edge_weight"`)
        features, state_channels, compress, normalization, gain_scale, self_loops: see
            :class:`~pyg_aggnn.nn.snapshot.SnapshotPolicy`.
    """

    def __init__(
        self,
        model: nn.Module,
        edge_input: str = "edge_weight",
        features: Sequence[str] = ("state", "direct_gain"),
        state_channels: int = 1,
        compress: str = "log",
        normalization: str = "damped",
        gain_scale: float | None = None,
        self_loops: bool = True,
    ):
        super().__init__(
            features, state_channels, (), compress, normalization, gain_scale, self_loops
        )
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.edge_input = check_choice("edge_input", edge_input, EDGE_INPUTS)

    def snapshot_logits(self, graph: SlotGraph) -> Tensor:
        if self.edge_input == "edge_weight":
            out = self.model(graph.x, graph.edge_index, edge_weight=graph.edge_weight)
        elif self.edge_input == "edge_attr":
            out = self.model(graph.x, graph.edge_index, edge_attr=graph.edge_weight[:, None])
        else:
            out = self.model(graph.x, graph.edge_index)
        if out.dim() == 2 and out.size(1) == 1:
            out = out.squeeze(1)
        if out.shape != (graph.num_nodes,):
            raise ValueError(
                f"the wrapped model must return one logit per node, shape [{graph.num_nodes}] "
                f"or [{graph.num_nodes}, 1], got {list(out.shape)}"
            )
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.model}, edge_input={self.edge_input!r})"
