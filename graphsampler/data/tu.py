r"""Loading TU graph-classification datasets by name, from a local mirror or the TU server.

Any TU dataset loads by its name (e.g. :obj:`"PTC_MR"`, :obj:`"ENZYMES"`). When a mirror
(:mod:`graphsampler.data.mirror`) is set, the dataset's zip must be in it: it is
verified against the mirror's :obj:`SHA256SUMS` when that lists it, and extracted
safely into :obj:`root/NAME/raw`; PyG's :class:`~torch_geometric.datasets.TUDataset`
then processes it without any download. Without a mirror, PyG downloads it from the
official TU server. Datasets of the manifest (:func:`graphsampler.data.tu_manifest`) are
checked against their statistics on every load; any other dataset that no checksum
verified is loaded with a warning that it is unverified. A first load says on stderr
what it is doing (extracting, processing :math:`N` graphs); later loads read PyG's cache
in :obj:`root/NAME/processed`. Every data error (a mirror without the zip, a corrupt
zip, an unreadable cache, an unknown name) is a one-line :class:`ValueError` that says
the fix.

Example:
    .. code-block:: python

        ds = load_tu("IMDB-BINARY", mirror="../shared/datasets/tu")
        ds.num_features  # 1: a constant feature, IMDB has no node labels
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

from torch_geometric.datasets import TUDataset

from .features import check_max_degree, node_slice, set_synthetic_features
from .manifest import tu_manifest
from .mirror import (
    MIRROR_ENV,
    extract_tu_zip,
    mirror_checksum,
    missing_ancestors,
    required_raw_files,
    resolve_mirror,
)

DATA_ENV = "GRAPHSAMPLER_DATA"
NODE_FEATURES = ("auto", "constant", "degree", "labels+degree")
DEFAULT_MAX_DEGREE = 64
_AVG_TOLERANCE = 0.005  # relative tolerance of the manifest's average nodes/edges
_TU_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


class TUDownloadError(ConnectionError, ValueError):
    r"""A TU dataset could not be downloaded. A :class:`ValueError` too, so that a
    caller that reports bad input in one line (the CLI) reports this one alike."""


def load_tu(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    node_features: str = "auto",
    max_degree: int = DEFAULT_MAX_DEGREE,
    mirror: str | os.PathLike[str] | None = None,
    node_attributes: bool = False,
) -> TUDataset:
    r"""Loads a TU dataset by name, verified where possible, with node features.

    Datasets without node labels (IMDB-BINARY, IMDB-MULTI, REDDIT-BINARY, COLLAB, ...)
    get synthetic features, computed once over the whole in-memory storage (no
    per-item transform). Datasets with node labels (MUTAG, PROTEINS, NCI1, ...) keep
    their one-hot node labels as features; only :obj:`"labels+degree"` adds to them.

    Args:
        name (str): A TU dataset name, e.g. :obj:`"MUTAG"`, :obj:`"PTC_MR"`; those of
            :func:`graphsampler.data.known_datasets` are checked against the manifest.
        root (str or PathLike, optional): Data root; the dataset lives in
            :obj:`root/NAME`. (default: env :obj:`GRAPHSAMPLER_DATA` if set, else
            :obj:`./datasets` relative to the current directory)
        node_features (str, optional): :obj:`"auto"` (the dataset's node labels when it
            has them, else constant), :obj:`"constant"` (one 1.0 per node where there
            are no labels, as GraphCL), :obj:`"degree"` (one-hot node degree where there
            are no labels) or :obj:`"labels+degree"` (the node labels, if any, followed
            by the one-hot degree, on every dataset, as MVGRL's code builds its
            features). (default: :obj:`"auto"`)
        max_degree (int, optional): Degree cap of the one-hot degree: degrees
            :math:`\geq` :obj:`max_degree` share the last column. It has
            :math:`\min(` :obj:`max_degree` :math:`, \Delta) + 1` columns for the
            dataset's largest degree :math:`\Delta`, so none is always zero.
            (default: :obj:`64`)
        mirror (str or PathLike, optional): Folder holding :obj:`NAME.zip`.
            (default: env :obj:`GRAPHSAMPLER_TU_MIRROR` if set, else download)
        node_attributes (bool, optional): Put the dataset's continuous node attributes
            (:obj:`NAME_node_attributes.txt`) before the node features, as PyG's
            :obj:`use_node_attr=True` does; a dataset without them is refused.
            (default: :obj:`False`)

    Returns:
        TUDataset: Graphs with :obj:`x` of shape :math:`[N, F]` (:math:`F`: node labels,
        1, degree columns, or labels plus degree columns) and :obj:`y` of shape
        :math:`[1]`.

    Raises:
        ValueError: On a bad argument or a data error, before any work, saying the fix.
        TUDownloadError: If the download fails (no mirror set).

    Example:
        .. code-block:: python

            ds = load_tu("MUTAG", "datasets", mirror="../shared/datasets/tu")
            len(ds), ds.num_classes, ds.num_features  # (188, 2, 7)
    """
    if not isinstance(name, str) or not _TU_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a TU dataset name (letters, digits, '_' and '-', "
                         "e.g. 'MUTAG' or 'PTC_MR')")
    if node_features not in NODE_FEATURES:
        raise ValueError(
            f"node_features must be one of {', '.join(NODE_FEATURES)}; got {node_features!r}"
        )
    check_max_degree(max_degree)
    stats = tu_manifest().get(name)
    folder = _resolve_root(root) / name
    mirror_dir = resolve_mirror(mirror)
    required = required_raw_files(name, bool(stats and stats["node_labels"]))
    needs_raw = not all((folder / "raw" / f).is_file() for f in required)
    verified = stats is not None
    if needs_raw and mirror_dir is not None:
        zip_path = mirror_dir / f"{name}.zip"
        if not zip_path.is_file():
            raise ValueError(f"the TU mirror {mirror_dir} has no {name}.zip"
                             f"{_did_you_mean(name)}: add the official zip there, or unset "
                             f"{MIRROR_ENV} to download it")
        sha256 = mirror_checksum(mirror_dir, zip_path.name)
        verified = verified or sha256 is not None
        _note(f"extracting {zip_path} (first load, cached after)")
        extract_tu_zip(zip_path, folder / "raw", name, sha256=sha256)
        shutil.rmtree(folder / "processed", ignore_errors=True)  # stale
    downloading = needs_raw and mirror_dir is None
    if not downloading and not (folder / "processed" / "data.pt").is_file():
        _note(f"processing {_count_graphs(folder / 'raw', name)} graphs of {name} into "
              f"{folder / 'processed'} (first load, cached after)")

    dataset = _construct(folder, name, downloading=downloading,
                         use_node_attr=bool(node_attributes))
    if node_attributes and dataset.num_node_attributes == 0:
        raise ValueError(f"{name} has no node attributes (no {name}_node_attributes.txt); "
                         f"drop node_attributes (--node-attributes)")
    if needs_raw and not verified:
        warnings.warn(f"{name} is not in graphsampler's manifest and no SHA256SUMS entry "
                      "verifies it: loaded unverified", stacklevel=2)
    if stats is not None:
        _check_against_manifest(dataset, name, stats, folder)
    if dataset._data.x is None or node_features == "labels+degree":
        set_synthetic_features(dataset, node_features, max_degree)
    return dataset


def has_raw_files(name: str, root: str | os.PathLike[str] | None = None) -> bool:
    r"""Whether :obj:`root/NAME/raw` holds the raw files :func:`load_tu` needs (it
    then neither extracts nor downloads)."""
    stats = tu_manifest().get(name)
    required = required_raw_files(name, bool(stats and stats["node_labels"]))
    folder = _resolve_root(root) / name / "raw"
    return all((folder / f).is_file() for f in required)


def check_tu_source(name: str, root: str | os.PathLike[str] | None = None, *,
                    mirror: str | os.PathLike[str] | None = None) -> None:
    r"""Checks, without loading anything, what :func:`load_tu` would refuse later: a bad
    name, a data root that is a file, a mirror without :obj:`NAME.zip`, and (without a
    mirror) a name that differs from a manifest name in case only. A name the TU server
    may have is left to :func:`load_tu`.

    Raises:
        ValueError: A one-line message that says the fix.

    Example:
        >>> check_tu_source("MUTAG")  # the mirror: GRAPHSAMPLER_TU_MIRROR, if set
    """
    if not isinstance(name, str) or not _TU_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a TU dataset name (letters, digits, '_' and '-', "
                         "e.g. 'MUTAG' or 'PTC_MR')")
    root_dir = _resolve_root(root)
    existing = next((p for p in (root_dir, *root_dir.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ValueError(f"data root {root_dir}: {existing} is a file, not a folder; give a "
                         f"folder (--data-root, data_root or {DATA_ENV})")
    if has_raw_files(name, root_dir):
        return
    mirror_dir = resolve_mirror(mirror)
    if mirror_dir is not None and not (mirror_dir / f"{name}.zip").is_file():
        raise ValueError(f"the TU mirror {mirror_dir} has no {name}.zip"
                         f"{_did_you_mean(name)}: add the official zip there, or unset "
                         f"{MIRROR_ENV} to download it")
    same = [n for n in tu_manifest() if n.upper() == name.upper() and n != name]
    if mirror_dir is None and same:
        raise ValueError(f"unknown TU dataset {name!r} (did you mean {same[0]!r}?): TU "
                         f"names are case-sensitive")


def _construct(folder: Path, name: str, *, downloading: bool,
               use_node_attr: bool = False) -> TUDataset:
    cached = folder / "processed" / "data.pt"
    if cached.is_file():
        try:
            return TUDataset(str(folder.parent), name, use_node_attr=use_node_attr)
        except Exception as exc:  # a truncated or foreign cache file
            reason = (str(exc).splitlines() or [""])[0][:120]
            raise ValueError(f"cannot read {cached} ({type(exc).__name__}: {reason}): delete "
                             f"{folder / 'processed'} and rerun") from exc
    if not downloading:
        try:
            return TUDataset(str(folder.parent), name, use_node_attr=use_node_attr)
        except Exception as exc:  # raw files PyG cannot parse
            shutil.rmtree(folder / "processed", ignore_errors=True)
            reason = (str(exc).splitlines() or [""])[0][:120]
            raise ValueError(f"cannot process the raw files of {name} in {folder / 'raw'} "
                             f"({type(exc).__name__}: {reason}): they are not in the TU "
                             f"format ({name}_A.txt, {name}_graph_indicator.txt, "
                             f"{name}_graph_labels.txt, one entry per line); fix or replace "
                             f"{name}.zip and delete {folder}") from exc
    created = missing_ancestors(folder / "raw")
    try:
        return TUDataset(str(folder.parent), name, use_node_attr=use_node_attr)
    except OSError as exc:  # DNS, connection refused, HTTP errors, timeouts
        for path in created:
            shutil.rmtree(path, ignore_errors=True)
        if isinstance(exc, FileNotFoundError):  # the server has no NAME.zip
            raise ValueError(f"unknown TU dataset {name!r}{_did_you_mean(name)}: the TU "
                             f"server has no {name}.zip ({exc})") from exc
        raise TUDownloadError(
            f"could not download {name} from {TUDataset.url} ({exc}); without internet "
            f"access, set {MIRROR_ENV} (or pass mirror=) to a folder holding {name}.zip in "
            "the official TU layout"
        ) from exc


def _did_you_mean(name: str) -> str:
    r"""``" (did you mean 'MUTAG'?)"`` for a name close to one of the manifest, else ``""``."""
    names = {n.upper(): n for n in tu_manifest()}
    close = difflib.get_close_matches(name.upper(), list(names), n=1, cutoff=0.75)
    return f" (did you mean {names[close[0]]!r}?)" if close and names[close[0]] != name else ""


def _count_graphs(raw_dir: Path, name: str) -> int:
    with open(raw_dir / f"{name}_graph_labels.txt", "rb") as labels:
        return sum(1 for line in labels if line.strip())


def _note(message: str) -> None:
    print(f"graphsampler: {message}", file=sys.stderr, flush=True)


def _check_against_manifest(
    dataset: TUDataset, name: str, stats: dict[str, Any], folder: Path
) -> None:
    data = dataset._data
    num_graphs = len(dataset)
    loaded = {
        "graphs": num_graphs,
        "classes": 0 if data.y is None else int(data.y.unique().numel()),
        "avg_nodes": int(node_slice(dataset)[-1]) / max(num_graphs, 1),
        "avg_edges": data.edge_index.size(1) / 2 / max(num_graphs, 1),
        "node_labels": dataset.num_node_labels > 0,
    }
    wrong = []
    for key, value in loaded.items():
        expected = stats[key]
        if key.startswith("avg_"):
            ok = abs(value - expected) <= _AVG_TOLERANCE * expected
        else:
            ok = value == expected
        if not ok:
            shown = f"{value:.2f}" if isinstance(value, float) else value
            wrong.append(f"{key} is {shown}, expected {expected}")
    if wrong:
        raise ValueError(
            f"{name} in {folder} does not match the manifest: {'; '.join(wrong)}. "
            f"Delete {folder} to re-extract (or re-download) it"
        )


def _resolve_root(root: str | os.PathLike[str] | None) -> Path:
    if root is None:
        root = os.environ.get(DATA_ENV) or "datasets"
    return Path(root).expanduser()
