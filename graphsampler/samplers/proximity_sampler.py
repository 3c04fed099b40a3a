r"""BatchSampler / ProSampler: batches grown by random walks on a proximity graph."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

from torch import Tensor

from graphsampler.samplers._checks import (
    check_fraction,
    check_indices,
    check_int,
    check_restart_prob,
    check_twin_threshold,
    resolve_sizes,
)
from graphsampler.samplers.base import EpochProgress
from graphsampler.samplers.hard import HardBatchSampler
from graphsampler.samplers.proximity_graph import build_proximity_graph, twin_groups
from graphsampler.samplers.schedule import restart_schedule as restart_schedule_named
from graphsampler.samplers.walk import random_walk_with_restart

#: Share of an epoch's grown batch slots filled by uniform top-ups above which the
#: sampler warns (once per sampler) that its batches are mostly uniform.
TOP_UP_WARNING = 0.5


class ProximityBatchSampler(HardBatchSampler):
    r"""BatchSampler / ProSampler (Yang et al., KDD 2023): mini-batches drawn by random
    walks with restart on a proximity graph of the instances' embeddings.

    Each instance links to its ``num_neighbors`` most similar among ``num_candidates``
    drawn at random (:func:`build_proximity_graph`); each batch is the first :math:`B`
    distinct instances a random walk with restart (:func:`random_walk_with_restart`)
    visits from a start node not yet covered. ``num_candidates`` sets the hardness
    (small: near uniform; :math:`\geq N`: exact kNN, more false negatives) and
    ``restart_prob`` the locality of a batch. Both sizes may be given as a fraction of
    :math:`N` (a float in :math:`(0, 1]`), which carries a setting across dataset sizes.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B`, :math:`1 \leq B \leq N`.
        num_candidates (int or float): Candidates :math:`M` per instance, or a fraction
            of :math:`N`, then at least :math:`10\lceil\sqrt{B}\rceil` and :math:`k + 1`
            (:func:`~graphsampler.samplers._checks.resolve_sizes`). (default:
            :obj:`0.03`, chosen by the study in ``docs/sampler-study.md``; the paper's
            image setting is 1000)
        num_neighbors (int or float): Out-degree :math:`k < \min(M, N)`, or a fraction
            of :math:`N`, then at least :math:`\lceil\sqrt{B}\rceil`. (default:
            :obj:`0.003`, :math:`M/10` as in the paper's 1000 and 100)
        restart_prob (float or callable): Restart probability :math:`\alpha \in [0, 1)`,
            or a function ``epoch -> alpha`` such as :class:`RestartDecay`.
            (default: :obj:`0.2`)
        restart_schedule (str): ``"constant"``, or ``"decay"``: the published schedule
            (:class:`RestartDecay`) starting at ``restart_prob``.
            (default: :obj:`"constant"`)
        max_steps (int, optional): Step cap of a walk (default: :obj:`64 * B`; walks
            that stop finding new instances end earlier, see
            :func:`random_walk_with_restart`).
        dedupe_twins (float, optional): Cosine similarity at and above which two
            instances are twins (:func:`twin_groups`, from the bank at every rebuild):
            a batch then holds at most one instance of each twin group, the first its
            walk visits, while the dataset has enough groups. Twins give a loss no
            negative to learn from (1-WL-equivalent graphs under a GIN are the same
            point); a walk through a cluster of them fills a batch with copies. Scores
            all :math:`N^2` pairs per rebuild. (default: :obj:`None`)
        dedupe_copies (bool): A batch holds at most one instance of each copy group,
            as with ``dedupe_twins``, the groups being fixed ids given by
            :meth:`set_copy_ids` (e.g. isomorphism classes from
            :func:`graphsampler.data.copies.dataset_copy_ids`) instead of read from the
            bank. (default: :obj:`False`)
        neighbor_offset (int): :math:`p`: each instance links to its candidates of
            ranks :math:`[p, p + k)` instead of its top :math:`k`
            (:func:`build_proximity_graph`); :math:`p + k < M`. (default: :obj:`0`)
        walk_fraction (float): Fraction of each batch grown by the walk, in
            :math:`(0, 1]`: the walk stops at its first :math:`\max(1,
            \mathrm{round}(fB))` distinct instances and the rest of the batch is drawn
            uniformly from the instances it lacks, so every batch mixes hard and
            uniform negatives. (default: :obj:`1.0`, the whole batch)
        **kwargs: ``drop_last``, ``seed``, ``device``, ``warmup_epochs``,
            ``refresh_every``, ``memory_budget``, as :class:`HardBatchSampler` takes
            them; ``epoch_rule`` (``"fixed"``, or ``"cover"``: the published rule) and
            ``twin_threshold`` (never link an instance to candidates this similar while
            others remain) above all.

    Example:
        .. code-block:: python

            from torch_geometric.loader import DataLoader
            sampler = ProximityBatchSampler(len(ds), batch_size=128, num_candidates=0.1,
                                            num_neighbors=0.02, restart_prob=0.2, seed=0)
            loader = DataLoader(ds, batch_sampler=sampler)  # ds = IndexedDataset(...)
            for epoch in range(20):
                for batch in loader:
                    z = model(batch)
                    sampler.update(batch.sample_idx, z.detach())
    """

    def __init__(self, num_items: int, batch_size: int, *,
                 num_candidates: int | float = 0.03, num_neighbors: int | float = 0.003,
                 restart_prob: float | Callable[[int], float] = 0.2,
                 restart_schedule: Literal["constant", "decay"] = "constant",
                 max_steps: int | None = None, dedupe_twins: float | None = None,
                 walk_fraction: float = 1.0, dedupe_copies: bool = False,
                 neighbor_offset: int = 0, **kwargs: Any) -> None:
        super().__init__(num_items, batch_size, **kwargs)
        m, k = resolve_sizes(num_candidates, num_neighbors, num_items, batch_size)
        if k >= m:
            raise ValueError(
                f"num_neighbors ({k}) must be smaller than num_candidates ({m}): each "
                f"instance keeps its k best of M candidates"
            )
        if k >= num_items:
            raise ValueError(
                f"num_neighbors ({k}) must be smaller than the number of instances "
                f"({num_items})"
            )
        if restart_schedule != "constant" and callable(restart_prob):
            raise ValueError("restart_schedule applies to a number restart_prob; a "
                             "callable restart_prob is a schedule already")
        if not callable(restart_prob):
            restart_prob = restart_schedule_named(restart_schedule, restart_prob)
        offset = check_int(neighbor_offset, "neighbor_offset", 0)
        if k + offset >= min(m, num_items):
            raise ValueError(
                f"neighbor_offset + num_neighbors ({offset} + {k}) must be smaller than "
                f"num_candidates ({m}) and than the number of instances ({num_items}): "
                "each instance links its candidates of ranks [p, p + k)")
        if not isinstance(dedupe_copies, bool):
            raise ValueError(f"dedupe_copies must be True or False, got {dedupe_copies!r}")
        if dedupe_copies and dedupe_twins is not None:
            raise ValueError("dedupe_copies and dedupe_twins both choose a batch's groups: "
                             "set one of them")
        self.num_candidates = m
        self.num_neighbors = k
        self.neighbor_offset = offset
        self.dedupe_copies = dedupe_copies
        self._copy_ids: Tensor | None = None
        self._warned = False
        self.restart_prob = restart_prob
        self.max_steps = None if max_steps is None else check_int(max_steps, "max_steps", 0)
        self.dedupe_twins = check_twin_threshold(dedupe_twins, "dedupe_twins")
        self.walk_fraction = check_fraction(walk_fraction, "walk_fraction")
        self._graph: Tensor | None = None
        self._groups: Tensor | None = None

    def restart_prob_at(self, epoch: int) -> float:
        r"""The restart probability used in ``epoch``."""
        alpha = self.restart_prob(epoch) if callable(self.restart_prob) else self.restart_prob
        return check_restart_prob(alpha)

    def set_copy_ids(self, copy_ids: Tensor) -> None:
        r"""Sets the copy group of every instance, for ``dedupe_copies``.

        Args:
            copy_ids (torch.Tensor): Group ids in :math:`[0, N)`, shape :obj:`[N]`
                (:func:`graphsampler.data.copies.dataset_copy_ids`: each graph's
                smallest isomorphic index).
        """
        ids = check_indices(copy_ids, self.num_items, "copy_ids")
        if ids.numel() != self.num_items:
            raise ValueError(f"copy_ids must hold one id per instance, shape "
                             f"[{self.num_items}], got {list(copy_ids.shape)}")
        self._copy_ids = ids

    def _refresh(self, progress: EpochProgress) -> None:
        self._graph = build_proximity_graph(
            self.bank.embeddings, self.num_neighbors, self.num_candidates,
            generator=progress.generator, memory_budget=self.memory_budget,
            twin_threshold=self.twin_threshold, neighbor_offset=self.neighbor_offset)
        if self.dedupe_copies:
            if self._copy_ids is None:
                raise ValueError("dedupe_copies needs the instances' copy ids: call "
                                 "sampler.set_copy_ids(ids) before the first hard epoch")
            self._groups = self._copy_ids.to(self.device)
        if self.dedupe_twins is not None:
            self._groups = twin_groups(self.bank.embeddings, self.dedupe_twins,
                                       memory_budget=self.memory_budget)
            self.stats["twin_groups"] = int(self._groups.unique().numel())

    def _grow(self, progress: EpochProgress, starts: Tensor) -> Tensor:
        assert self._graph is not None
        walk = random_walk_with_restart(self._graph, starts, self.batch_size,
                                        self.restart_prob_at(progress.epoch),
                                        generator=progress.generator, max_steps=self.max_steps,
                                        groups=self._groups,
                                        num_walked=max(1, round(self.walk_fraction
                                                                * self.batch_size)))
        self._filled = walk.filled  # counted in stats for the batches the epoch keeps
        self.stats["walk_steps"] = max(self.stats.get("walk_steps", 0), walk.steps)
        return walk.batches

    def __iter__(self) -> Iterator[list[int]]:
        yield from super().__iter__()
        filled, slots = self.stats.get("walk_filled", 0), self.stats.get("walk_slots", 0)
        if slots and filled > TOP_UP_WARNING * slots and not self._warned:
            self._warned = True
            warnings.warn(
                f"{type(self).__name__}: {filled / slots:.0%} of epoch "
                f"{self.stats['epoch']}'s batch slots were uniform top-ups (walks found "
                f"too few graphs: N={self.num_items}, B={self.batch_size}, "
                f"M={self.num_candidates}, k={self.num_neighbors}), so its batches are "
                "mostly uniform; raise num_neighbors or num_candidates, or lower "
                "batch_size", UserWarning, stacklevel=2)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_items={self.num_items}, "
                f"batch_size={self.batch_size}, num_candidates={self.num_candidates}, "
                f"num_neighbors={self.num_neighbors}, restart_prob={self.restart_prob}, "
                f"epoch={self.epoch_rule!r}, twin_threshold={self.twin_threshold}, "
                f"dedupe_twins={self.dedupe_twins}, dedupe_copies={self.dedupe_copies}, "
                f"neighbor_offset={self.neighbor_offset}, walk_fraction={self.walk_fraction}, "
                f"seed={self.seed})")
