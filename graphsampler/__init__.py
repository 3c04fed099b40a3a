r"""graphsampler: hard mini-batches for graph contrastive learning.

BatchSampler (Yang et al., KDD 2023) for graphs: an embedding bank, a proximity graph of
the instances, and mini-batches drawn by random walks with restart on it, as a
``batch_sampler`` for ``torch_geometric.loader.DataLoader``. The top level also exports
what a training loop of one's own needs (the README's examples): the methods, the GIN
encoder and the losses they are built from, and the evaluation protocol.
"""
import importlib
from typing import Any

#: Where each top-level name lives: imported on first use (PEP 562), so that
#: ``import graphsampler`` (and the command line's ``--help``) loads neither torch nor
#: PyG until a name that needs them is used.
_EXPORTS = {
    "IndexedDataset": "graphsampler.data", "load_tu": "graphsampler.data",
    "svm_cv": "graphsampler.eval",
    "DCLLoss": "graphsampler.losses", "HCLLoss": "graphsampler.losses",
    "InfoNCELoss": "graphsampler.losses",
    "MVGRL": "graphsampler.methods", "GraphCL": "graphsampler.methods",
    "GINEncoder": "graphsampler.nn",
    "DistributedBatchSampler": "graphsampler.samplers",
    "EmbeddingBank": "graphsampler.samplers", "KNNBatchSampler": "graphsampler.samplers",
    "ProximityBatchSampler": "graphsampler.samplers",
    "UniformBatchSampler": "graphsampler.samplers",
    "build_proximity_graph": "graphsampler.samplers",
    "random_walk_with_restart": "graphsampler.samplers",
    "embed_dataset": "graphsampler.embed",
    "load_model": "graphsampler.bench.saved",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graphsampler' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
    "load_model",
]
