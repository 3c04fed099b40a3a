r"""graphsampler: hard mini-batches for graph contrastive learning.

BatchSampler (Yang et al., KDD 2023) for graphs: an embedding bank, a proximity graph of
the instances, and mini-batches drawn by random walks with restart on it, as a
``batch_sampler`` for ``torch_geometric.loader.DataLoader``.
"""
from graphsampler.data import IndexedDataset, load_tu
from graphsampler.samplers import (
    DistributedBatchSampler,
    EmbeddingBank,
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
    build_proximity_graph,
    random_walk_with_restart,
)

__version__ = "0.1.0"

__all__ = [
    "IndexedDataset",
    "load_tu",
    "EmbeddingBank",
    "build_proximity_graph",
    "random_walk_with_restart",
    "UniformBatchSampler",
    "KNNBatchSampler",
    "ProximityBatchSampler",
    "DistributedBatchSampler",
]
