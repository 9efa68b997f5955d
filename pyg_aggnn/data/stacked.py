r"""``StackedEpisodes``: a cached training set of equal-shape episodes, one tensor per
field, batched without building ``Data`` objects.

PyG's ``Batch.from_data_list`` walks every field of every episode of a batch: about
7 ms for 64 ten-link Gaussian-IC networks, a quarter of a model-based MLP step, and a
``WirelessEpisode`` object costs about 12 kB, so 400,000 cached networks take 5 GB.
Where every episode has the same fields and shapes (a scenario whose graph is the same
for every network, such as the Gaussian IC's complete graph), this keeps each field as
one ``[S, ...]`` tensor over the ``S`` episodes and builds a batch with one index and
one reshape per field. The batch equals ``Batch.from_data_list`` of the same episodes
field for field, with the same batch vector, ``ptr`` and slice and increment tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torch_geometric.data import Batch

from pyg_aggnn._validation import check_values

__all__ = ["StackedEpisodes", "stack_episodes"]


class StackedEpisodes(Dataset):
    """Equal-shape episodes stored field by field; ``dataset[i]`` is episode ``i`` and
    ``dataset.__getitems__(indices)`` the PyG batch of those episodes (which
    ``torch.utils.data.DataLoader`` calls for a whole batch at once).

    Args:
        episodes: at least one episode; all of one class, with the same fields, and
            every field of the same shape and dtype in every episode.

    Raises:
        ValueError: if ``episodes`` is empty, a field is not a tensor, or two episodes
            differ in their fields, shapes, dtypes or increments.
    """

    def __init__(self, episodes: Sequence):
        if len(episodes) == 0:
            raise ValueError("episodes must hold at least one episode, got none")
        first = episodes[0]
        self.episode_class = type(first)
        reference = first.to_dict()
        self.keys = list(reference)
        self.cat_dims, self.increments = {}, {}
        for key, value in reference.items():
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"every field must be a tensor to be stacked, got {key}={type(value)}"
                )
            self.cat_dims[key] = first.__cat_dim__(key, value)
            self.increments[key] = int(first.__inc__(key, value))
        self.num_nodes = int(first.num_nodes)
        shapes = {key: (value.shape, value.dtype) for key, value in reference.items()}
        incremented = [key for key, inc in self.increments.items() if inc]
        columns: dict[str, list[Tensor]] = {key: [] for key in self.keys}
        for index, episode in enumerate(episodes):
            fields = episode.to_dict()
            if type(episode) is not self.episode_class or fields.keys() != reference.keys():
                raise ValueError(
                    f"episode {index} has fields {list(fields)}, the first {self.keys}: "
                    "StackedEpisodes needs episodes of one shape"
                )
            for key, value in fields.items():
                if not isinstance(value, Tensor) or (value.shape, value.dtype) != shapes[key]:
                    raise ValueError(
                        f"episode {index} has {key} of shape "
                        f"{tuple(getattr(value, 'shape', ()))}, the first "
                        f"{tuple(shapes[key][0])}: StackedEpisodes needs episodes of one shape"
                    )
                columns[key].append(value)
            for key in incremented:
                if int(episode.__inc__(key, fields[key])) != self.increments[key]:
                    raise ValueError(
                        f"episode {index} increments {key} by "
                        f"{int(episode.__inc__(key, fields[key]))}, the first by "
                        f"{self.increments[key]}: StackedEpisodes needs episodes of one shape"
                    )
        self.fields = {key: torch.stack(values) for key, values in columns.items()}

    def check_like(self, other: StackedEpisodes) -> None:
        """Raise ``ValueError`` unless ``other`` holds episodes of the same shape."""
        if (
            other.episode_class is not self.episode_class
            or other.keys != self.keys
            or other.increments != self.increments
            or other.cat_dims != self.cat_dims
            or any(
                other.fields[k].shape[1:] != self.fields[k].shape[1:]
                or other.fields[k].dtype != self.fields[k].dtype
                for k in self.keys
            )
        ):
            raise ValueError("the two sets hold episodes of different shapes")

    @classmethod
    def concatenate(cls, parts: Sequence[StackedEpisodes]) -> StackedEpisodes:
        """One set of the episodes of ``parts``, in order (all of one shape)."""
        if not parts:
            raise ValueError("parts must hold at least one StackedEpisodes, got none")
        first = parts[0]
        for part in parts[1:]:
            first.check_like(part)
        out = cls.__new__(cls)
        out.episode_class, out.keys = first.episode_class, list(first.keys)
        out.cat_dims, out.increments = dict(first.cat_dims), dict(first.increments)
        out.num_nodes = first.num_nodes
        out.fields = {k: torch.cat([p.fields[k] for p in parts]) for k in first.keys}
        return out

    def __len__(self) -> int:
        return self.fields[self.keys[0]].size(0)

    def validate(self) -> StackedEpisodes:
        """Check every episode (a :class:`~pyg_aggnn.data.WirelessEpisode`) as its
        ``validate`` would, at once: the shapes and dtypes of the first (stacking made
        them all alike), then the values of all, one reduction per field
        (``WirelessEpisode.value_checks``); raise ``ValueError`` naming the field.
        """
        first = self[0]
        first.validate_shapes()
        counts = (first.x.size(0), first.rx_pos.size(0))
        check_values(*self.episode_class.value_checks(self.fields, *counts))
        return self

    def __getitem__(self, index: int):
        return self.episode_class(**{key: self.fields[key][index] for key in self.keys})

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        """The batch of episodes ``indices`` (as ``Batch.from_data_list`` would build it)."""
        index = torch.as_tensor(list(indices), dtype=torch.long)
        count = index.numel()
        if count == 0:
            raise ValueError("indices must name at least one episode, got none")
        out = Batch(_base_cls=self.episode_class)
        slices, increments = {}, {}
        steps = torch.arange(count)
        for key in self.keys:
            value = self.fields[key][index]  # [B, ...]
            shape = value.shape[1:]
            inc = self.increments[key]
            if inc:
                value = value + (steps * inc).view(count, *([1] * len(shape))).to(value.dtype)
            dim = self.cat_dims[key]
            if dim is None:  # stacked along a new leading dimension
                size = 1
            else:
                dim = dim % len(shape)
                size = shape[dim]
                value = value.movedim(0, dim).reshape(
                    *shape[:dim], count * shape[dim], *shape[dim + 1 :]
                )
            out[key] = value
            slices[key] = torch.arange(count + 1) * size
            increments[key] = steps * inc
        out.batch = steps.repeat_interleave(self.num_nodes)
        out.ptr = torch.arange(count + 1) * self.num_nodes
        out._num_graphs = count
        out._slice_dict = slices
        out._inc_dict = increments
        return out


def stack_episodes(episodes: Iterable, chunk: int = 4096) -> StackedEpisodes | list:
    """``episodes`` as a :class:`StackedEpisodes` where they all have one shape, else as
    a list (in order either way), taken ``chunk`` at a time, so that at most ``chunk``
    episode objects are alive at once while they are stacked.
    """
    iterator = iter(episodes)
    parts: list[StackedEpisodes] = []
    while pending := list(itertools.islice(iterator, chunk)):
        try:
            part = StackedEpisodes(pending)
            if parts:
                part.check_like(parts[0])
        except ValueError:
            done = [part[k] for part in parts for k in range(len(part))]
            return [*done, *pending, *iterator]
        parts.append(part)
    if not parts:
        return []
    return parts[0] if len(parts) == 1 else StackedEpisodes.concatenate(parts)
