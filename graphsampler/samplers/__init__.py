r"""Mini-batch samplers: the embedding bank, the proximity graph, the random walk with
restart, and the batch samplers built on them.

Nothing here imports from :mod:`graphsampler.nn`, :mod:`graphsampler.methods` or the
training loop: a sampler only ever sees indices and embedding tensors, so it serves any
modality.
"""
from graphsampler.samplers.adaptive import AdaptiveProximityBatchSampler, hardness_ratio
from graphsampler.samplers.bank import EmbeddingBank
from graphsampler.samplers.base import BaseBatchSampler
from graphsampler.samplers.distributed import DistributedBatchSampler
from graphsampler.samplers.hard import HardBatchSampler
from graphsampler.samplers.knn import KNNBatchSampler
from graphsampler.samplers.proximity_graph import build_proximity_graph, twin_groups
from graphsampler.samplers.proximity_sampler import ProximityBatchSampler
from graphsampler.samplers.schedule import RestartDecay
from graphsampler.samplers.uniform import FixedBatchSampler, UniformBatchSampler
from graphsampler.samplers.walk import WalkResult, random_walk_with_restart

__all__ = [
    "EmbeddingBank",
    "build_proximity_graph",
    "twin_groups",
    "random_walk_with_restart",
    "WalkResult",
    "BaseBatchSampler",
    "HardBatchSampler",
    "UniformBatchSampler",
    "FixedBatchSampler",
    "KNNBatchSampler",
    "ProximityBatchSampler",
    "AdaptiveProximityBatchSampler",
    "RestartDecay",
    "hardness_ratio",
    "DistributedBatchSampler",
]
