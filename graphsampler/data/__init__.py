"""graphsampler.data: TU datasets (local mirror or official download), synthetic node
features for featureless graphs, and IndexedDataset (each graph knows its index), with
IndexedDGLDataset its DGL counterpart (dgl is imported only when one is built), and each
method's dataset preparation (:mod:`.prepare`)."""
from .dgl import IndexedDGLDataset
from .indexed import IndexedDataset
from .manifest import known_datasets, tu_manifest
from .prepare import load_graphcl_dataset, load_mvgrl_dataset
from .tu import TUDownloadError, load_tu

__all__ = [
    "IndexedDGLDataset",
    "IndexedDataset",
    "TUDownloadError",
    "known_datasets",
    "load_graphcl_dataset",
    "load_mvgrl_dataset",
    "load_tu",
    "tu_manifest",
]
