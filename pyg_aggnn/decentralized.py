r"""The papers' Algorithm 1, node by node: the executable meaning of "decentralized".

Every link is a :class:`Node` object that owns its buffer :math:`\mathbf{y}_i(t) \in
\mathbb{R}^{K \times F}` and its held decision. At every slot :math:`t`:

1. every node observes its own inputs :math:`x_i(t)` (its state, its direct gain, ...,
   see :mod:`pyg_aggnn.nn.features`);
2. every *active* node :math:`j \in \mathcal{A}(t)` transmits the message
   :math:`\{y_j^{(k)}(t-1)\}_{k=0}^{K-2}` (a snapshot of its buffer, ``(K-1) F``
   numbers); the receiver of link :math:`i` keeps it when it hears :math:`j` at or above
   the threshold, :math:`|h_{ij}(t)| \ge \eta_0`, i.e. when :math:`j \in
   \mathcal{N}_i(t)`;
3. every node, active or not, forms :math:`y_i^{(0)}(t) = x_i(t)` and
   :math:`y_i^{(k)}(t) = c_i(t) \sum_{j} w_{ij}(t)\, y_j^{(k-1)}(t-1)` from the messages
   it kept and, when it is itself active and above the threshold, its own previous
   buffer, with the weights of :mod:`pyg_aggnn.nn.shift` computed from the gains it
   measured;
4. every active node evaluates the shared policy on its own sequence and updates its
   power; an inactive node keeps :math:`p_i(t) = p_i(t-1)`.

Nothing here is vectorised over nodes: the point is that each number a node uses is one
it observed, measured or received. The tests show that the batched
:class:`~pyg_aggnn.nn.DelayedDiffusion` and :class:`~pyg_aggnn.nn.AggGNN` give the same
numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from pyg_aggnn._validation import check_positive_int
from pyg_aggnn.nn import features as node_inputs
from pyg_aggnn.nn import shift
from pyg_aggnn.wireless.holding import hold, last_active_slot

__all__ = ["AggregationProtocol", "ProtocolTrace", "Node", "hold_last_active"]


def hold_last_active(values: Tensor, active: Tensor, initial: float = 0.0) -> Tensor:
    """Hold each node's value of its last active slot, ``[N, T]``.

    ``values[i, t]`` is used where ``active[i, t]``; elsewhere the value of node ``i``'s
    last active slot before ``t`` is repeated, and ``initial`` before its first one.
    """
    return hold(values, last_active_slot(active), initial)


@dataclass
class ProtocolTrace:
    """What the protocol produced, slot by slot.

    Attributes:
        sequences: ``[m, T, K, F]`` every node's :math:`\\mathbf{y}_i(t)`.
        logits: ``[m, T]`` logit of the policy where the node decided, NaN elsewhere.
        prob: ``[m, T]`` transmit probability in force (held while inactive).
        power: ``[m, T]`` transmit power in force (held while inactive).
        messages: ``[m, T] long`` messages node ``i`` sent at slot ``t`` (one per
            neighbour that kept it).
        numbers: ``[m, T] long`` numbers node ``i`` sent at slot ``t``.
    """

    sequences: Tensor
    logits: Tensor
    prob: Tensor
    power: Tensor
    messages: Tensor
    numbers: Tensor


class Node:
    """One link: its buffer, its measurements and its decision.

    Args:
        index: the link's label.
        K: aggregation length.
        num_features: signal channels ``F``.
        dtype: floating dtype of the buffer.
    """

    def __init__(self, index: int, K: int, num_features: int, dtype: torch.dtype):
        self.index = index
        self.K = K
        self.sequence = torch.zeros(K, num_features, dtype=dtype)  # y_i(t-1), then y_i(t)
        self.observation = torch.zeros(num_features, dtype=dtype)
        self.prob = 0.0
        self.power = 0.0

    def observe(self, signal: Tensor) -> None:
        """Record :math:`x_i(t)`."""
        self.observation = signal

    def message(self) -> Tensor:
        """The payload :math:`\\{y_i^{(k)}(t-1)\\}_{k=0}^{K-2}`, ``[K-1, F]`` (a copy)."""
        return self.sequence[: self.K - 1].clone()

    def aggregate(
        self,
        received: list[tuple[int, float, Tensor]],
        reference: float,
        compress: str,
        normalization: str,
    ) -> None:
        """Form :math:`\\mathbf{y}_i(t)` from the kept ``(sender, gain, payload)`` triples."""
        new = torch.zeros_like(self.sequence)
        new[0] = self.observation
        if received and self.K > 1:
            received = sorted(received, key=lambda item: item[0])
            gains = torch.tensor([gain for _, gain, _ in received], dtype=new.dtype)
            weights = shift.compress_gain(gains, reference, compress)
            scale = float(shift.receiver_scale(weights.sum(), normalization))
            total = torch.zeros_like(new[1:])
            for weight, (_, _, payload) in zip(weights, received):
                total += weight * payload
            new[1:] = total * scale
        self.sequence = new


class AggregationProtocol:
    """Run the delayed aggregation and the policy node by node on one episode.

    Args:
        K: aggregation length (default: ``10``).
        compress: gain compression (default: ``"log"``).
        normalization: receiver scale (default: ``"damped"``).
        features: node inputs (default: ``("state",)``).
        state_channels: channels of ``episode.x`` (default: ``1``).
        gain_scale: reference amplitude, ``None`` for the episode's threshold.
        policy: maps a node's ``[1, K, F]`` sequence to a ``[1]`` logit (e.g.
            :meth:`AggGNN.head <pyg_aggnn.nn.AggGNN.head>`); ``None`` only aggregates.
    """

    def __init__(
        self,
        K: int = 10,
        compress: str = "log",
        normalization: str = "damped",
        features: Sequence[str] = ("state",),
        state_channels: int = 1,
        gain_scale: float | None = None,
        policy: Callable[[Tensor], Tensor] | None = None,
    ):
        self.K = check_positive_int("K", K)
        shift.check_modes(compress, normalization)
        self.compress, self.normalization = compress, normalization
        fed = [name for name in features if name in node_inputs.FEEDBACK_FEATURES]
        if fed:
            raise ValueError(
                f"features must not hold the feedback features {fed}: the protocol does "
                f"not simulate powers on the air (roll such a policy out with "
                f"pyg_aggnn.on_air.allocate), got {list(features)!r}"
            )
        if "leakage" in features:
            raise ValueError(
                f"features must not hold 'leakage': the protocol does not simulate the "
                f"receivers' feedback of the gains it is computed from, got {list(features)!r}"
            )
        self.features = node_inputs.check_features(features)
        self.num_features = node_inputs.num_node_features(self.features, state_channels)
        self.gain_scale = gain_scale
        self.policy = policy

    @classmethod
    def from_model(cls, model) -> AggregationProtocol:
        """The protocol that executes an :class:`~pyg_aggnn.nn.AggGNN` node by node."""
        if getattr(model, "reverse", False):
            raise ValueError(
                "model.reverse must be False: the protocol simulates the aggregation over "
                "the slot graphs only, not over their transposes"
            )
        return cls(
            K=model.K,
            compress=model.diffusion.compress,
            normalization=model.diffusion.normalization,
            features=model.features,
            state_channels=model.state_channels,
            gain_scale=model.gain_scale,
            policy=model.head,
        )

    @torch.no_grad()
    def run(self, episode, dtype: torch.dtype = torch.float64) -> ProtocolTrace:
        """Simulate every slot of ``episode`` (one network, not a batch)."""
        m, num_slots = episode.x.size(0), episode.num_slots
        eta0 = float(episode.eta0.reshape(-1)[0])
        reference = float(shift.gain_reference(eta0, self.gain_scale))
        # what each receiver can hear: candidate senders and the gains it measures
        heard_by: list[list[tuple[int, int]]] = [[] for _ in range(m)]
        for e, (j, i) in enumerate(episode.edge_index.t().tolist()):
            heard_by[j].append((i, e))
        gain = episode.edge_gain.to(dtype)

        nodes = [Node(i, self.K, self.num_features, dtype) for i in range(m)]
        sequences = torch.zeros(m, num_slots, self.K, self.num_features, dtype=dtype)
        logits = torch.full((m, num_slots), float("nan"), dtype=dtype)
        prob = torch.zeros(m, num_slots, dtype=dtype)
        power = torch.zeros(m, num_slots, dtype=dtype)
        messages = torch.zeros(m, num_slots, dtype=torch.long)
        numbers = torch.zeros(m, num_slots, dtype=torch.long)
        for t in range(num_slots):
            for node in nodes:  # 1. observe own inputs
                node.observe(self._observe(episode, node.index, t, reference, dtype))
            inbox: list[list[tuple[int, float, Tensor]]] = [[] for _ in range(m)]
            for j, node in enumerate(nodes):  # 2. active nodes transmit
                if not bool(episode.active[j, t]):
                    continue
                payload = node.message()
                for i, e in heard_by[j]:
                    g = float(gain[e, t])
                    if g < eta0:
                        continue  # receiver i does not hear j
                    inbox[i].append((j, g, payload))
                    if i != j and self.K > 1:
                        messages[j, t] += 1
                        numbers[j, t] += payload.numel()
            for i, node in enumerate(nodes):  # 3. every node aggregates
                node.aggregate(inbox[i], reference, self.compress, self.normalization)
                sequences[i, t] = node.sequence
            for i, node in enumerate(nodes):  # 4. active nodes decide, others hold
                if bool(episode.active[i, t]) and self.policy is not None:
                    logit = float(self.policy(node.sequence[None].to(self._policy_dtype()))[0])
                    logits[i, t] = logit
                    node.prob = float(torch.sigmoid(torch.tensor(logit, dtype=dtype)))
                    node.power = float(episode.max_power[i]) * node.prob
                prob[i, t], power[i, t] = node.prob, node.power
        return ProtocolTrace(sequences, logits, prob, power, messages, numbers)

    def _observe(self, episode, i: int, t: int, reference: float, dtype: torch.dtype) -> Tensor:
        row = node_inputs.local_features(
            self.features,
            episode.x[i : i + 1].to(dtype),
            episode.direct_gain[i : i + 1].to(dtype),
            episode.active[i : i + 1],
            episode.link_weight[i : i + 1].to(dtype),
            reference,
        )
        return row[0, t]

    def _policy_dtype(self) -> torch.dtype:
        owner = getattr(self.policy, "__self__", None)
        if isinstance(owner, torch.nn.Module):
            for parameter in owner.parameters():
                return parameter.dtype
        return torch.float64
