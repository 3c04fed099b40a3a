r"""Mini-batch samplers: the embedding bank, the proximity graph, the random walk with
restart, and the batch samplers built on them.

Nothing here imports from :mod:`graphsampler.nn`, :mod:`graphsampler.methods` or the
training loop: a sampler only ever sees indices and embedding tensors, so it serves any
modality.
"""
from graphsampler.samplers.bank import EmbeddingBank
from graphsampler.samplers.batch import (
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
    epoch_generator,
)
from graphsampler.samplers.distributed import DistributedBatchSampler
from graphsampler.samplers.proximity import build_proximity_graph, draw_candidates
from graphsampler.samplers.walk import (
    WalkResult,
    first_distinct,
    random_walk_with_restart,
    rwr_trajectory,
)

__all__ = [
    "EmbeddingBank",
    "build_proximity_graph",
    "draw_candidates",
    "random_walk_with_restart",
    "rwr_trajectory",
    "first_distinct",
    "WalkResult",
    "UniformBatchSampler",
    "KNNBatchSampler",
    "ProximityBatchSampler",
    "DistributedBatchSampler",
    "epoch_generator",
]
