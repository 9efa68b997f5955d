"""The Aggregation GNN policy: delayed diffusion + a CNN shared by all nodes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.nn import BatchNorm

from pyg_aggnn._validation import (
    check_choice,
    check_finite,
    check_non_negative,
    check_positive_int,
)
from pyg_aggnn.nn import features as node_inputs
from pyg_aggnn.nn import shift
from pyg_aggnn.nn.delayed_diffusion import DelayedDiffusion
from pyg_aggnn.nn.policy import PowerPolicy

__all__ = ["AggGNN"]

READOUTS = ("last", "mean", "linear", "filter")
# Nodes per run of the CNN head (see AggGNN.head).
_HEAD_CHUNK = 2**14

#: Normalisations of the CNN head (``norm``).
NORMS = ("batch_norm",)


def _per_layer(name: str, value: int | Sequence[int], num_layers: int) -> list[int]:
    values = [value] * num_layers if isinstance(value, int) else list(value)
    if len(values) != num_layers:
        raise ValueError(
            f"{name} must be an integer or a list of {num_layers} integers (one per layer), "
            f"got {value!r}"
        )
    return [check_positive_int(name, v) for v in values]


class AggGNN(PowerPolicy):
    r"""The Aggregation Graph Neural Network policy of the "Learning Decentralized Wireless
    Resource Allocations with Graph Neural Networks" paper (Wang, Eisen and Ribeiro).

    Every node :math:`i` builds its aggregation sequence :math:`\mathbf{y}_i(t) \in
    \mathbb{R}^{K \times F}` with :class:`~pyg_aggnn.nn.DelayedDiffusion` and applies the
    same 1-D CNN over the hop axis (eq. (13)-(17)): layer :math:`l` has :math:`F_l`
    features and causal filters of :math:`K_l` taps,

    .. math::
        \mathbf{v}_{il}^{f}[n] = \sigma\Big(b_l^f + \sum_{g=1}^{F_{l-1}}
        \sum_{k=0}^{K_l - 1} \alpha_{l,k}^{fg}\, \mathbf{v}_{i(l-1)}^{g}[n - k]\Big),
        \qquad \mathbf{v}_{i0} = \mathbf{y}_i(t),

    with :math:`\sigma` = ReLU and zeros for :math:`n - k < 0`, so the output keeps the
    length ``K`` and position ``n`` sees hops ``0..n``. A readout maps
    :math:`\mathbf{v}_{iL}` to the logit :math:`z_i`, and :math:`\pi_i = \sigma(z_i)` is
    node :math:`i`'s transmit probability: ``"last"`` (default) an affine map of the
    last position (which sees every hop), ``"mean"`` of the average over positions,
    ``"linear"`` of the whole flattened sequence; ``"filter"`` is the papers' final
    layer: the last layer (of one feature) is not rectified, and its last position is
    the logit, which the sigmoid turns into the probability. A rectified last layer read
    out by an affine map :math:`w v + b` gives every link a logit of at least :math:`b`
    (for :math:`w > 0`): the on-probability of every link is bounded below by one shared
    floor. All weights are shared by all nodes, so
    the policy is permutation equivariant and runs on networks of any size.

    The default input features are the node state and the compressed direct gain
    :math:`\log(1 + |h_{ii}(t)| / \eta_0)`, both known to node :math:`i` (see
    :mod:`pyg_aggnn.nn.features`): with constant states alone, links that share a
    receiver (cellular uplink) would see identical sequences.

    Args:
        K (int, optional): aggregation length (hops). (default: :obj:`10`)
        num_layers (int, optional): CNN layers :math:`L`. (default: :obj:`10`)
        hidden_channels (int or list, optional): features :math:`F_l` per layer.
            (default: :obj:`1`)
        kernel_size (int or list, optional): taps :math:`K_l` per layer.
            (default: :obj:`10`)
        readout (str, optional): ``"last"``, ``"mean"``, ``"linear"`` or ``"filter"``
            (the last layer, of one feature, unrectified; see above).
            (default: :obj:`"last"`)
        features (list of str, optional): node inputs from
            :data:`~pyg_aggnn.nn.features.NODE_FEATURES` and the feedback features
            :data:`~pyg_aggnn.nn.features.FEEDBACK_FEATURES` (the link's own power and
            its receiver's measured interference at the previous slot; with them the
            policy is rolled out slot by slot, :meth:`feedback_logits`).
            (default: :obj:`("state", "direct_gain")`)
        state_channels (int, optional): channels of ``episode.x``. (default: :obj:`1`)
        compress (str, optional): see :class:`DelayedDiffusion`. (default: :obj:`"log"`)
        normalization (str, optional): see :class:`DelayedDiffusion`.
            (default: :obj:`"damped"`)
        gain_scale (float, optional): reference amplitude :math:`\eta`; ``None`` uses each
            episode's threshold :math:`\eta_0` (``1`` where it is ``0``).
            (default: :obj:`None`)
        bias (bool, optional): biases in the CNN layers. (default: :obj:`True`)
        init_noise (float, optional): filters start at the mean of their inputs at lag
            zero plus uniform noise of this relative size, so that a deep single-feature
            ReLU stack passes its (non-negative) input at initialisation instead of
            starting dead; biases start at zero. (default: :obj:`0.1`)
        readout_bias (float, optional): the readout's starting bias (with ``"filter"``
            the last layer's), i.e. about the starting logit of every link; ``None`` keeps
            the initialisation (PyTorch's for the affine readouts, zero for ``"filter"``).
            With a rectified last layer and an affine readout, a deep single-feature stack
            started above the logits it has to reach lowers them by shrinking its
            activations, which kills its layers within about ten updates; a low start
            (e.g. ``-2``: on-probability 0.12) with a learning-rate warm-up keeps it
            alive, but the papers' final layer (``readout="filter"``) removes the cause
            and needs neither (docs/training.md). (default: :obj:`None`)
        norm (str, optional): ``"batch_norm"`` normalises every CNN layer's output per
            feature over the nodes and positions of the batch, before its ReLU, and the
            logit over the nodes (:class:`torch_geometric.nn.norm.BatchNorm`); in
            evaluation the running statistics make it a fixed per-node affine map, so the
            policy stays decentralized. :obj:`None` is the papers' head. Why: see
            :class:`~pyg_aggnn.nn.SelectionGNN`. (default: :obj:`None`)
        reverse (bool, optional): also aggregate the inputs over the transposed slot
            graphs, :math:`\mathbf{Z}^{\leftarrow}_t[:, k] = \hat{\mathbf{S}}^{\leftarrow}(t)
            \mathbf{Z}^{\leftarrow}_{t-1}[:, k-1]` with :math:`\hat S^{\leftarrow}_{ji}(t) =
            c^{\leftarrow}_j(t) w_{ij}(t)` and :math:`c^{\leftarrow}_j = \rho(\sum_i w_{ij})`:
            every transmitter hears, one hop per slot, the receivers that hear it, with the
            gains they measure (one more exchange per slot, in the other direction, over
            the same edges: an awake transmitter above the threshold hears the receiver
            whether that receiver's own link is awake or not, as in the exchanges of the
            distributed WMMSE baselines). This
            is the direction of what a distributed WMMSE's transmitter update uses (its
            victims' states, weighted by the gains to them); the CNN reads the ``2 F_in``
            channels of both sequences. (default: :obj:`False`)

    Shapes:
        - **input:** a (batched) :class:`~pyg_aggnn.data.WirelessEpisode` with
          :math:`N` links and :math:`T` slots
        - **output:** logits :math:`(N)` at the last slot, or :math:`(N, T)` with
          ``all_slots=True``
    """

    def __init__(
        self,
        K: int = 10,
        num_layers: int = 10,
        hidden_channels: int | Sequence[int] = 1,
        kernel_size: int | Sequence[int] = 10,
        readout: str = "last",
        features: Sequence[str] = ("state", "direct_gain"),
        state_channels: int = 1,
        compress: str = "log",
        normalization: str = "damped",
        gain_scale: float | None = None,
        bias: bool = True,
        init_noise: float = 0.1,
        norm: str | None = None,
        readout_bias: float | None = None,
        reverse: bool = False,
    ):
        super().__init__()
        self.K = check_positive_int("K", K)
        self.norm = None if norm is None else check_choice("norm", norm, NORMS)
        num_layers = check_positive_int("num_layers", num_layers)
        self.hidden_channels = _per_layer("hidden_channels", hidden_channels, num_layers)
        self.kernel_size = _per_layer("kernel_size", kernel_size, num_layers)
        self.readout = check_choice("readout", readout, READOUTS)
        self.features = node_inputs.check_features(
            features, (*node_inputs.NODE_FEATURES, *node_inputs.FEEDBACK_FEATURES)
        )
        if self.feedback and self.norm is not None:
            raise ValueError(
                f"norm must be None with the feedback features {list(self.features)}: "
                f"batch statistics mix the slots that a slot-by-slot rollout keeps apart, "
                f"got norm={norm!r}"
            )
        self.state_channels = check_positive_int("state_channels", state_channels)
        self.gain_scale = None if gain_scale is None else float(gain_scale)
        self.init_noise = check_non_negative("init_noise", init_noise)
        self.readout_bias = (
            None if readout_bias is None else check_finite("readout_bias", readout_bias)
        )
        if self.readout == "filter" and self.hidden_channels[-1] != 1:
            raise ValueError(
                "readout 'filter' reads the last layer's one feature: hidden_channels must "
                f"end in 1, got {self.hidden_channels}"
            )
        if self.readout == "filter" and self.readout_bias is not None and not bias:
            raise ValueError(
                "readout_bias with readout 'filter' sets the last layer's bias: bias must be "
                f"True, got {bias!r}"
            )
        if not isinstance(reverse, bool):
            raise ValueError(f"reverse must be a bool, got {reverse!r}")
        self.reverse = reverse
        self.diffusion = DelayedDiffusion(K, compress=compress, normalization=normalization)
        self.num_inputs = node_inputs.num_node_features(self.features, state_channels)
        #: Channels of the sequence the CNN reads: the inputs, twice with ``reverse``.
        self.in_channels = self.num_inputs * (2 if reverse else 1)
        channels = [self.in_channels, *self.hidden_channels]
        self.convs = nn.ModuleList(
            nn.Conv1d(c_in, c_out, k, bias=bias)
            for c_in, c_out, k in zip(channels[:-1], channels[1:], self.kernel_size)
        )
        width = channels[-1] * (K if readout == "linear" else 1)
        self.lin = None if self.readout == "filter" else nn.Linear(width, 1)
        self.norms = (
            None
            if self.norm is None
            else nn.ModuleList(
                BatchNorm(c, allow_single_element=True) for c in [*self.hidden_channels, 1]
            )
        )
        self.reset_parameters()

    #: Named configurations, as overrides of the constructor's defaults (``K = 10``, 10
    #: layers of 1 feature and 10 taps):
    #:
    #: * ``"synchronous"``: the papers' synchronous model, ``K = 10``, 10 layers, 1
    #:   feature, 10 taps (100 filter weights), the last layer's last position is the
    #:   logit (``readout="filter"``: "the final layer normalizes the outputs through a
    #:   sigmoid function");
    #: * ``"asynchronous"``: the papers' asynchronous model, ``K = 5`` exchanges and 5
    #:   taps, the same final layer;
    #: * ``"compact"``: the default policy of training
    #:   (:meth:`~lightning_modules.PrimalDualModule.default_policy`, ``pyg-aggnn
    #:   train``): ``K = 5``, 3 layers of 4 features and 5 taps, a linear readout of the
    #:   whole sequence.
    PRESETS: dict[str, dict] = {
        "synchronous": {"readout": "filter"},
        "asynchronous": {"K": 5, "kernel_size": 5, "readout": "filter"},
        "compact": {
            "K": 5,
            "num_layers": 3,
            "hidden_channels": 4,
            "kernel_size": 5,
            "readout": "linear",
        },
    }

    @classmethod
    def preset_args(cls, name: str) -> dict:
        """The constructor arguments of preset ``name`` (:attr:`PRESETS`)."""
        check_choice("name", name, tuple(cls.PRESETS))
        return dict(cls.PRESETS[name])

    @classmethod
    def preset(cls, name: str, **kwargs) -> AggGNN:
        """The model of preset ``name`` (:attr:`PRESETS`), with ``kwargs`` overriding it."""
        return cls(**{**cls.preset_args(name), **kwargs})

    @classmethod
    def synchronous(cls, **kwargs) -> AggGNN:
        """Preset ``"synchronous"``: ``K = 10``, 10 layers, 1 feature, 10 taps, the last
        layer's output the logit.
        """
        return cls.preset("synchronous", **kwargs)

    @classmethod
    def asynchronous(cls, **kwargs) -> AggGNN:
        """Preset ``"asynchronous"``: ``K = 5`` exchanges, 10 layers, 1 feature, 5 taps, the
        last layer's output the logit.
        """
        return cls.preset("asynchronous", **kwargs)

    @classmethod
    def compact(cls, **kwargs) -> AggGNN:
        """Preset ``"compact"``, the default policy of training: ``K = 5``, 3 layers of 4
        features and 5 taps, a linear readout.
        """
        return cls.preset("compact", **kwargs)

    def reset_parameters(self):
        for conv in self.convs:
            c_out, c_in, taps = conv.weight.shape
            bound = self.init_noise / math.sqrt(c_in * taps)
            with torch.no_grad():
                conv.weight.uniform_(-bound, bound)
                conv.weight[:, :, -1] += 1.0 / c_in  # lag 0: the mean of the inputs
                if conv.bias is not None:
                    conv.bias.zero_()
        if self.lin is not None:
            self.lin.reset_parameters()
        if self.readout_bias is not None:
            with torch.no_grad():
                last = self.convs[-1] if self.lin is None else self.lin
                last.bias.fill_(self.readout_bias)
        for norm in self.norms or ():
            norm.reset_parameters()

    @property
    def feedback(self) -> bool:
        """Whether the policy reads the powers on the air
        (:data:`~pyg_aggnn.nn.features.FEEDBACK_FEATURES`) and so decides slot by slot.
        """
        return any(name in node_inputs.FEEDBACK_FEATURES for name in self.features)

    def feedback_logits(self, batch, power: Tensor, slot: int | None = None) -> Tensor:
        """Logits ``[N, T, S]`` under ``S`` samples of the powers in force ``power``
        (``[N, T, S]``), or ``[N, S]`` at slot ``slot`` only (which reads ``power`` before
        it: what :func:`~pyg_aggnn.on_air.allocate` needs to roll the policy out).
        """
        self.check_batch(batch)
        samples = power.size(-1)
        count = None if slot is None else slot + 1
        x = node_inputs.sample_features(batch, self.features, power, self.gain_scale, count)
        edge_weight = batch.edge_weight if slot is None else batch.edge_weight[:, :count]
        x = x.flatten(2)  # [N, T', S * F]: the diffusion is linear in every channel
        parts = self._aggregate(batch, x, edge_weight, all_slots=slot is None)
        # [N, (T,) K, S * F] per direction -> [N, (T,) S, K, C]
        parts = [part.unflatten(-1, (samples, self.num_inputs)) for part in parts]
        sequence = torch.cat(parts, dim=-1).transpose(-3, -2)
        out = self.head(sequence.reshape(-1, self.K, self.in_channels))
        return out.view(*sequence.shape[:-2])

    def _aggregate(self, batch, x: Tensor, edge_weight: Tensor, all_slots: bool) -> list[Tensor]:
        """The aggregation sequences of ``x`` over the slot graphs, and with ``reverse``
        over their transposes (every transmitter hears the receivers that hear it, with
        the gains they measure).
        """
        reference = self.edge_reference(batch)
        forward = self.diffusion(x, batch.edge_index, edge_weight, reference, all_slots)
        if not self.reverse:
            return [forward]
        flipped = batch.edge_index.flip(0)
        return [forward, self.diffusion(x, flipped, edge_weight, reference, all_slots)]

    def input_features(self, batch) -> Tensor:
        """Node inputs ``[N, T, F_in]`` (each row uses only that link's own quantities)."""
        return node_inputs.node_features(batch, self.features, self.gain_scale)

    def edge_reference(self, batch) -> Tensor:
        """Reference amplitude :math:`\\eta` of every edge's receiver (see
        :func:`~pyg_aggnn.nn.shift.edge_reference`).
        """
        return shift.edge_reference(batch, self.gain_scale)

    def sequences(self, batch, all_slots: bool = False) -> Tensor:
        """Aggregation sequences ``[N, K, C]`` (or ``[N, T, K, C]``): ``C`` the inputs'
        channels, then with ``reverse`` those over the transposed graphs.
        """
        parts = self._aggregate(batch, self.input_features(batch), batch.edge_weight, all_slots)
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def causal_matrix(self, layer: int) -> Tensor:
        """Layer ``layer`` as the ``[K * F_in, K * F_out]`` matrix of its causal filter.

        Rows and columns are position-major (``n * F + f``): entry ``(n', g), (n, f)``
        holds :math:`\alpha^{fg}_{n - n'}` for ``0 <= n - n' < K_l``, zero elsewhere.
        """
        conv, taps, K = self.convs[layer], self.kernel_size[layer], self.K
        pos = torch.arange(K, device=conv.weight.device)
        lag = pos[None, :] - pos[:, None]  # [K_in, K_out]: lag = n_out - n_in
        valid = (lag >= 0) & (lag < taps)
        tap = (taps - 1 - lag).clamp(0, taps - 1)  # Conv1d stores lag 0 last
        matrix = conv.weight[:, :, tap] * valid  # [F_out, F_in, K_in, K_out]
        return matrix.permute(2, 1, 3, 0).reshape(K * conv.in_channels, K * conv.out_channels)

    def head(self, sequence: Tensor) -> Tensor:
        """The shared CNN and readout: ``[n, K, F_in]`` sequences to ``[n]`` logits.

        Each layer is evaluated as one product with :meth:`causal_matrix` (a ``K x K``
        Toeplitz block per channel pair), the same numbers as a causal ``Conv1d`` but far
        cheaper for very many short sequences. Nodes are processed in runs of
        ``2^14`` so that every temporary stays in the CPU cache.
        """
        matrices, biases = self._layer_matrices()
        # batch statistics (training with norm) need the whole batch at once
        if sequence.size(0) <= _HEAD_CHUNK or (self.norms is not None and self.training):
            return self._head(sequence, matrices, biases)
        return torch.cat(
            [self._head(part, matrices, biases) for part in sequence.split(_HEAD_CHUNK)]
        )

    def _layer_matrices(self) -> tuple[list[Tensor], list]:
        """Every layer's :meth:`causal_matrix` and bias repeated over the positions.

        Without autograd they are kept and reused while the weights are unchanged (the
        same parameter tensors at the same version: an optimizer step or a loaded state
        dict changes them in place and so rebuilds them): on small networks building
        them took a sixth of a decision.
        """
        params = [p for conv in self.convs for p in (conv.weight, conv.bias) if p is not None]
        key = tuple((id(p), p._version, p.device, p.dtype) for p in params)
        cached = self.__dict__.get("_matrices_cache")
        grad = torch.is_grad_enabled()
        if not grad and cached is not None and cached[0] == key:
            return cached[1], cached[2]
        matrices = [self.causal_matrix(layer) for layer in range(len(self.convs))]
        biases = [None if conv.bias is None else conv.bias.repeat(self.K) for conv in self.convs]
        if not grad:
            self.__dict__["_matrices_cache"] = (key, matrices, biases)
        return matrices, biases

    def _head(self, sequence: Tensor, matrices: list[Tensor], biases: list) -> Tensor:
        num, K = sequence.size(0), self.K
        hidden = sequence.reshape(num, -1)  # [n, K * F], position-major
        rectified = len(matrices) - (self.readout == "filter")
        for layer, (matrix, bias) in enumerate(zip(matrices, biases)):
            hidden = hidden @ matrix if bias is None else torch.addmm(bias, hidden, matrix)
            if self.norms is not None:  # per feature, over nodes and positions
                features = self.hidden_channels[layer]
                hidden = self.norms[layer](hidden.view(num * K, features)).view(num, -1)
            if layer < rectified:
                hidden = hidden.relu_()
        hidden = hidden.view(num, K, -1)  # [n, K, F_L]
        if self.readout == "filter":
            logit = hidden[:, -1]  # [n, 1]: the last layer's last position
        elif self.readout == "last":
            hidden = hidden[:, -1]
        elif self.readout == "mean":
            hidden = hidden.mean(dim=1)
        else:
            hidden = hidden.flatten(1)
        if self.lin is not None:
            logit = self.lin(hidden)  # [n, 1]
        if self.norms is not None:
            logit = self.norms[-1](logit)
        return logit.squeeze(-1)

    def logits(self, batch, all_slots: bool = False) -> Tensor:
        self.check_batch(batch)
        sequence = self.sequences(batch, all_slots=all_slots)
        if not all_slots:
            return self.head(sequence)
        num_nodes, num_slots = sequence.shape[:2]
        return self.head(sequence.flatten(0, 1)).view(num_nodes, num_slots)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(K={self.K}, layers={len(self.convs)}, "
            f"hidden_channels={self.hidden_channels}, kernel_size={self.kernel_size}, "
            f"readout={self.readout!r}, features={list(self.features)}, "
            f"normalization={self.diffusion.normalization!r}"
            + (", reverse=True" if self.reverse else "")
            + ("" if self.norm is None else f", norm={self.norm!r}")
            + ")"
        )
