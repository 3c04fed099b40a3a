r"""graphsampler: hard mini-batches for graph contrastive learning.

BatchSampler (Yang et al., KDD 2023) for graphs: an embedding bank, a proximity graph of
the instances, and mini-batches drawn by random walks with restart on it, as a
``batch_sampler`` for ``torch_geometric.loader.DataLoader``. The top level also exports
what a training loop of one's own needs (the README's examples): the methods, the GIN
encoder and the losses they are built from, and the evaluation protocol.
"""
from graphsampler.data import IndexedDataset, load_tu
from graphsampler.eval import svm_cv
from graphsampler.losses import DCLLoss, HCLLoss, InfoNCELoss
from graphsampler.methods import MVGRL, GraphCL
from graphsampler.nn import GINEncoder
from graphsampler.samplers import (
    DistributedBatchSampler,
    EmbeddingBank,
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
    build_proximity_graph,
    random_walk_with_restart,
)
from graphsampler.train import embed_dataset

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
    "GraphCL",
    "MVGRL",
    "GINEncoder",
    "InfoNCELoss",
    "DCLLoss",
    "HCLLoss",
    "embed_dataset",
    "svm_cv",
]
