"""``WirelessDataModule``: simulated or on-disk wireless episodes for Lightning."""

from __future__ import annotations

from collections.abc import Callable

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import Dataset, DistributedSampler
from torch_geometric.loader import DataLoader

from pyg_aggnn._validation import check_choice, check_positive_int
from pyg_aggnn.data.augment import permute_links, random_link_permutation
from pyg_aggnn.data.online import OnlineEpisodes, available_cpus, simulate, simulate_set
from pyg_aggnn.data.seeding import Stream, keyed_generator
from pyg_aggnn.data.stacked import StackedEpisodes
from pyg_aggnn.wireless import AdHoc
from pyg_aggnn.wireless.scenario import Scenario

__all__ = ["WirelessDataModule"]

#: Training-set augmentations (``augment``).
AUGMENTATIONS = ("permute_links",)


def _whole_batch(batch):
    """The collate function of a :class:`StackedEpisodes` loader: its ``__getitems__``
    already returns the batch.
    """
    return batch


class _Indexed(Dataset):
    """A dataset whose items carry their index as ``sample_id`` (keys their random draws)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        episode = self.dataset[index]
        episode.sample_id = torch.tensor([int(index)])
        return episode


class _StreamLoader(DataLoader):
    """A loader that (re)starts its stream at ``position()`` each time it is iterated."""

    def __init__(self, dataset: OnlineEpisodes, position: Callable[[], int], **kwargs):
        super().__init__(dataset, **kwargs)
        self.position = position

    def __iter__(self):
        self.dataset.start = int(self.position())
        return super().__iter__()


class WirelessDataModule(LightningDataModule):
    r"""Training, validation and test episodes of one setting.

    **Online simulation** (``scenario``): training draws an endless stream of new
    episodes (:class:`~lightning_modules.OnlineEpisodes`; every DDP rank and data-loader
    worker draws different, reproducible samples, keyed by the seed and the global
    step, so a resumed run continues the same stream); validation and test are fixed
    held-out sets of ``val_size`` and ``test_size`` episodes from their own streams.
    With ``train_size``, training instead cycles through the first ``train_size``
    episodes of that stream, simulated once and reshuffled every epoch (an in-memory
    training set: on small networks simulating an episode costs more than training on
    it).

    **On disk** (``dataset``): the ``train``, ``val`` and ``test`` splits of a dataset
    written by ``pyg-aggnn generate`` (:class:`~pyg_aggnn.data.WirelessDataset`), the
    training split shuffled per epoch from ``seed``.

    ``network="fixed"`` simulates one layout (drawn from ``seed``) with fresh fading and
    activity in every episode, as in the papers; ``"random"`` draws a new layout per
    episode (from a list of scenarios: also a random size per episode).

    Args:
        scenario: a :class:`~pyg_aggnn.wireless.Scenario` or a list of them (default:
            ``AdHoc(25)``); chosen in YAML by ``class_path``.
        dataset: path of an on-disk dataset instead of simulating (default: ``None``).
        network: ``"fixed"`` or ``"random"`` (default: ``"fixed"``).
        num_slots: slots ``T`` per episode (online; default: ``10``).
        batch_size: training episodes per batch and device (default: ``32``).
        batches_per_epoch: batches per training epoch, or ``None`` for one endless
            epoch (online without ``train_size``; default: ``50``).
        train_size: training episodes simulated once and reused, an epoch being one
            pass over them, or ``None`` for new episodes throughout (online;
            default: ``None``).
        val_size: held-out validation episodes (online; default: ``128``).
        test_size: held-out test episodes (online; default: ``512``).
        eval_batch_size: episodes per validation/test batch (default: ``64``).
        seed: seed of all the data streams and the fixed layout (default: ``0``).
        num_workers: data-loader worker processes (default: ``0``).
        simulation_workers: processes that simulate a ``train_size`` training set
            (:func:`~pyg_aggnn.data.online.simulate_set`; the same episodes whatever the
            number), or ``None`` for the CPU cores available to each rank, at most 8
            (default: ``None``).
        augment: ``"permute_links"`` relabels the links of every training batch by a fresh
            random permutation, keyed by ``seed`` and the step (:mod:`pyg_aggnn.data.augment`:
            for policies that are not permutation equivariant, such as the MLP, on
            scenarios whose link labels are exchangeable; ``network="random"`` with
            ``train_size`` or ``dataset``), or ``None`` (default: ``None``).
    """

    @staticmethod
    def default_scenario() -> Scenario:
        """The scenario simulated when neither a scenario nor a dataset is given: the
        papers' ad-hoc network of ``m = 25`` links.
        """
        return AdHoc(num_links=25)

    def __init__(
        self,
        scenario: Scenario | list[Scenario] | None = None,
        dataset: str | None = None,
        network: str = "fixed",
        num_slots: int = 10,
        batch_size: int = 32,
        batches_per_epoch: int | None = 50,
        train_size: int | None = None,
        val_size: int = 128,
        test_size: int = 512,
        eval_batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 0,
        simulation_workers: int | None = None,
        augment: str | None = None,
    ):
        super().__init__()
        if scenario is not None and dataset is not None:
            raise ValueError("give either scenario or dataset, not both")
        if dataset is None and scenario is None:
            scenario = self.default_scenario()
        scenarios = [scenario] if isinstance(scenario, Scenario) else scenario
        if scenarios is not None:
            if not scenarios or not all(isinstance(s, Scenario) for s in scenarios):
                raise ValueError(
                    f"scenario must be a Scenario or a non-empty list of them, got {scenario!r}"
                )
            if network == "fixed" and len(scenarios) > 1:
                raise ValueError(f"network='fixed' needs one scenario, got {len(scenarios)}")
        self.scenarios = scenarios
        self.dataset = dataset
        self.network = check_choice("network", network, ("fixed", "random"))
        self.num_slots = check_positive_int("num_slots", num_slots)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.batches_per_epoch = (
            None
            if batches_per_epoch is None
            else check_positive_int("batches_per_epoch", batches_per_epoch)
        )
        self.train_size = (
            None if train_size is None else check_positive_int("train_size", train_size)
        )
        if self.train_size is not None and dataset is not None:
            raise ValueError("train_size is for simulated episodes; give it without dataset")
        self.val_size = check_positive_int("val_size", val_size)
        self.test_size = check_positive_int("test_size", test_size)
        self.eval_batch_size = check_positive_int("eval_batch_size", eval_batch_size)
        self.seed = check_positive_int("seed", seed, minimum=0)
        self.num_workers = check_positive_int("num_workers", num_workers, minimum=0)
        self.simulation_workers = (
            None
            if simulation_workers is None
            else check_positive_int("simulation_workers", simulation_workers)
        )
        if augment is not None:
            check_choice("augment", augment, AUGMENTATIONS)
            if self.network != "random" or (self.train_size is None and dataset is None):
                raise ValueError(
                    f"augment={augment!r} relabels the links of a training set of random "
                    f"networks: it needs network='random' and train_size or dataset, got "
                    f"network={self.network!r}, train_size={self.train_size}"
                )
        self.augment = augment
        self.layout = None
        if self.scenarios is not None and self.network == "fixed":
            self.layout = self.scenarios[0].sample_layout(keyed_generator(self.seed, Stream.LAYOUT))
        self._splits: dict[str, Dataset] = {}

    # ------------------------------------------------------------------ facts about the data
    @property
    def num_links(self) -> int | None:
        """Links ``m`` of the fixed network (``None`` for random networks)."""
        if self.network != "fixed":
            return None
        if self.layout is not None:
            return self.layout.num_links
        return int(self._split("train")[0].num_nodes)

    def training_episodes(self, count: int) -> list:
        """The first ``count`` episodes of the training stream (all of a smaller training
        set), in order and reproducible from ``seed``: what offline settings of the
        baselines are fitted on, never the held-out validation or test episodes.
        """
        count = check_positive_int("count", count)
        if self.dataset is not None or self.train_size is not None:
            data = self._split("train")
            return [data[k] for k in range(min(count, len(data)))]
        return [
            simulate(self.scenarios, self.num_slots, self.seed, Stream.TRAIN, k, self.layout)
            for k in range(count)
        ]

    # ------------------------------------------------------------------ splits
    def _split(self, split: str) -> Dataset:
        if split not in self._splits:
            if self.dataset is not None:
                from pyg_aggnn.data import WirelessDataset

                self._splits[split] = _Indexed(WirelessDataset(self.dataset, split=split))
            else:
                sizes = {"train": self.train_size, "val": self.val_size, "test": self.test_size}
                streams = {"train": Stream.TRAIN, "val": Stream.VAL, "test": Stream.TEST}
                size, stream = sizes[split], streams[split]
                if split == "train":
                    # a training set of equal-shape episodes is kept field by field and
                    # batched without Data objects (pyg_aggnn.data.stacked): the same batches
                    self._splits[split] = simulate_set(
                        self.scenarios,
                        self.num_slots,
                        self.seed,
                        stream,
                        size,
                        self.layout,
                        workers=self._simulation_workers(),
                    )
                else:
                    self._splits[split] = [
                        simulate(self.scenarios, self.num_slots, self.seed, stream, k, self.layout)
                        for k in range(size)
                    ]
        return self._splits[split]

    def _simulation_workers(self) -> int:
        if self.simulation_workers is not None:
            return self.simulation_workers
        return max(1, min(8, available_cpus() // self._distribution()[1]))

    def _distribution(self) -> tuple[int, int]:
        if self.trainer is None:
            return 0, 1
        return int(self.trainer.global_rank), int(self.trainer.world_size)

    def _position(self) -> int:
        return 0 if self.trainer is None else int(self.trainer.global_step)

    def train_dataloader(self) -> DataLoader:
        rank, world_size = self._distribution()
        if self.dataset is not None or self.train_size is not None:
            data = self._split("train")
            if len(data) < self.batch_size * world_size:
                raise ValueError(
                    f"the training set of {len(data)} episodes must hold at least one batch "
                    f"of batch_size={self.batch_size} per rank on {world_size} rank(s)"
                )
            sampler = DistributedSampler(
                data,
                num_replicas=world_size,
                rank=rank,
                shuffle=True,
                seed=self.seed,
                drop_last=True,
            )
            loader = TorchDataLoader if isinstance(data, StackedEpisodes) else DataLoader
            options = {"collate_fn": _whole_batch} if loader is TorchDataLoader else {}
            return loader(
                data,
                batch_size=self.batch_size,
                sampler=sampler,
                num_workers=self.num_workers,
                drop_last=True,
                **options,
            )
        stream = OnlineEpisodes(
            self.scenarios,
            self.num_slots,
            self.batch_size,
            self.seed,
            layout=self.layout,
            batches=self.batches_per_epoch,
            rank=rank,
            world_size=world_size,
        )
        return _StreamLoader(
            stream, self._position, batch_size=self.batch_size, num_workers=self.num_workers
        )

    def on_before_batch_transfer(self, batch, dataloader_idx: int):
        if self.augment == "permute_links" and self.trainer is not None and self.trainer.training:
            rank, _ = self._distribution()
            generator = keyed_generator(self.seed, Stream.AUGMENT, self._position(), rank)
            batch = permute_links(batch, random_link_permutation(batch, generator))
        return batch

    def _eval_loader(self, split: str) -> DataLoader:
        return DataLoader(
            self._split(split),
            batch_size=self.eval_batch_size,
            shuffle=False,
            num_workers=self.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")
