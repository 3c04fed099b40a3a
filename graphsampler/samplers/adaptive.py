r"""A proximity sampler that tunes its own hardness: :math:`M` steered to a target."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from graphsampler.samplers.base import EpochProgress
from graphsampler.samplers.proximity_sampler import ProximityBatchSampler

#: Anchors and random pairs drawn to estimate the uniform and kNN similarity levels.
SAMPLE_SIZE = 512


def hardness_ratio(embeddings: Tensor, batches: Tensor, *,
                   generator: torch.Generator | None = None,
                   sample_size: int = SAMPLE_SIZE) -> float:
    r"""Where batches sit between uniform and nearest-neighbour batches, without labels.

    With :math:`h(\cdot)` the mean cosine similarity of distinct pairs,

    .. math::
        r = \frac{h(\text{in-batch pairs}) - h(\text{random pairs})}
                 {h(\text{anchor, its } B-1 \text{ nearest}) - h(\text{random pairs})},

    so :math:`r \approx 0` for uniform batches and :math:`r = 1` for kNN batches. The
    two reference levels are estimated from ``sample_size`` random anchors (exact
    nearest neighbours among all :math:`N`) and random pairs.

    Args:
        embeddings (torch.Tensor): The bank, shape :obj:`[N, d]`.
        batches (torch.Tensor): Batches of dataset indices, shape :obj:`[W, B]`,
            :math:`B \geq 2`.
        generator (torch.Generator, optional): Randomness of the estimates.
        sample_size (int): Anchors and pairs of the estimates.

    Returns:
        float: :math:`r` (may leave :math:`[0, 1]` by estimation noise; 0 when the
        nearest neighbours are no closer than random pairs).

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> emb = torch.randn(100, 8, generator=gen)
        >>> knn = (F.normalize(emb) @ F.normalize(emb).T).topk(10).indices  # [100, 10]
        >>> uniform = torch.randperm(100, generator=gen).view(10, 10)
        >>> hardness_ratio(emb, knn, generator=gen) > 0.5 > hardness_ratio(emb, uniform,
        ...                                                                generator=gen)
        True
    """
    n, b = embeddings.size(0), batches.size(1)
    emb = F.normalize(embeddings.float(), dim=1)
    z = emb[batches]  # [W, B, d]
    gram = z @ z.transpose(1, 2)
    in_batch = (gram.sum() - gram.diagonal(dim1=1, dim2=2).sum()) / (gram.size(0) * b * (b - 1))
    device = emb.device
    pairs = torch.randint(n, (2, sample_size), generator=generator, device=device)
    pairs = pairs[:, pairs[0] != pairs[1]]
    uniform = (emb[pairs[0]] * emb[pairs[1]]).sum(1).mean()
    anchors = torch.randperm(n, generator=generator, device=device)[:sample_size]
    sims = emb[anchors] @ emb.T
    sims[torch.arange(anchors.numel(), device=device), anchors] = -math.inf
    nearest = sims.topk(min(b - 1, n - 1), dim=1).values.mean()
    span = float(nearest - uniform)
    return 0.0 if span <= 1e-12 else float(in_batch - uniform) / span


class AdaptiveProximityBatchSampler(ProximityBatchSampler):
    r"""A :class:`ProximityBatchSampler` that steers :math:`M` toward a target hardness.

    How hard proximity batches are depends on :math:`M/N`, :math:`k`, :math:`\alpha` and
    on the dataset and the encoder, so one :math:`M` does not carry across datasets.
    This sampler takes the hardness itself as its knob: after every planned stretch of
    batches it measures their :func:`hardness_ratio` :math:`r` (0: uniform, 1: kNN;
    from the bank, no labels) and moves :math:`M` multiplicatively,
    :math:`\log M \leftarrow \log M + \eta\,(r^* - r)` (a larger :math:`M` finds nearer
    neighbours), clipped to :math:`[k + 1, N]`. ``stats["num_candidates"]`` and
    ``stats["hardness_ratio"]`` record the path.

    Args:
        num_items (int): Dataset size :math:`N`.
        batch_size (int): Batch size :math:`B \geq 2`.
        target_hardness (float): Target :math:`r^* \in (0, 1)`. (default: :obj:`0.3`)
        gain (float): Step :math:`\eta > 0` of :math:`\log M` per unit of error.
            (default: :obj:`2.0`)
        **kwargs: Everything :class:`ProximityBatchSampler` takes; ``num_candidates``
            is the starting :math:`M`.

    Example:
        >>> sampler = AdaptiveProximityBatchSampler(1000, 32, target_hardness=0.3,
        ...                                         num_candidates=0.1, num_neighbors=10)
    """

    def __init__(self, num_items: int, batch_size: int, *, target_hardness: float = 0.3,
                 gain: float = 2.0, **kwargs: Any) -> None:
        super().__init__(num_items, batch_size, **kwargs)
        if isinstance(target_hardness, bool) or not isinstance(target_hardness, (int, float)) \
                or not 0 < target_hardness < 1:
            raise ValueError(f"target_hardness must be a number in (0, 1) (0: uniform "
                             f"batches, 1: nearest-neighbour batches), got {target_hardness!r}")
        if isinstance(gain, bool) or not isinstance(gain, (int, float)) or \
                not math.isfinite(gain) or gain <= 0:
            raise ValueError(f"gain must be a positive number, got {gain!r}")
        if batch_size < 2:
            raise ValueError("batch_size must be >= 2 to measure in-batch hardness")
        self.target_hardness = float(target_hardness)
        self.gain = float(gain)

    def _plan(self, progress: EpochProgress, remaining: int) -> list[Tensor]:
        planned = super()._plan(progress, remaining)
        if self.stats.get("uniform"):
            return planned
        full = torch.stack([b for b in planned if b.numel() == self.batch_size])
        ratio = hardness_ratio(self.bank.embeddings, full, generator=progress.generator)
        log_m = math.log(self.num_candidates) + self.gain * (self.target_hardness - ratio)
        low, high = self.num_neighbors + self.neighbor_offset + 1, self.num_items
        self.num_candidates = int(round(min(max(math.exp(log_m), low), high)))
        self.stats.setdefault("hardness_ratio", []).append(ratio)
        self.stats.setdefault("num_candidates", []).append(self.num_candidates)
        return planned

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["num_candidates"] = self.num_candidates
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.num_candidates = state["num_candidates"]
