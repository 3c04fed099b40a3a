r"""The manifest of supported TU datasets (``manifest.json`` beside this module).

For every dataset it records the statistics of the graphs as PyG loads them (graph
count, classes, average nodes and average undirected edges, i.e.
:obj:`edge_index.size(1) / 2` per graph after PyG removes self-loops and duplicate
edges), whether the dataset has node labels, and its source citation.
:func:`graphsampler.data.load_tu` checks every loaded dataset against it.

Example:
    >>> known_datasets()[:2]
    ['MUTAG', 'PROTEINS']
    >>> tu_manifest()["MUTAG"]["graphs"]
    188
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _read_manifest() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("manifest.json").read_text("utf-8")
    return json.loads(text)


def tu_manifest() -> dict[str, dict[str, Any]]:
    r"""Statistics of the supported TU datasets, keyed by dataset name.

    Returns:
        dict: :obj:`{name: {"graphs": int, "classes": int, "avg_nodes": float,
        "avg_edges": float, "node_labels": bool, "source": str}}` (a fresh copy; edit
        it freely).

    Example:
        >>> tu_manifest()["COLLAB"]["classes"]
        3
    """
    return copy.deepcopy(_read_manifest()["datasets"])


def known_datasets() -> list[str]:
    r"""Names of the supported TU datasets, in manifest order.

    Example:
        >>> "IMDB-BINARY" in known_datasets()
        True
    """
    return list(_read_manifest()["datasets"])
