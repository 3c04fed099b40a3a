r"""Loading TU graph-classification datasets from a local mirror or the official source.

A *mirror* is a folder of :obj:`NAME.zip` files in the official TU layout
(:obj:`NAME/NAME_A.txt`, :obj:`NAME/NAME_graph_indicator.txt`, ...), optionally with a
:obj:`SHA256SUMS` file (``sha256sum`` format). When the mirror holds the dataset's zip,
it is verified, extracted safely and atomically into :obj:`root/NAME/raw`, and PyG's
:class:`~torch_geometric.datasets.TUDataset` processes it without any download.
Without a mirror, :class:`~torch_geometric.datasets.TUDataset` downloads from the
official TU server as usual.

Example:
    >>> ds = load_tu("IMDB-BINARY", mirror="/work/shared/datasets/tu")
    >>> ds.num_features  # constant feature: IMDB has no node labels
    1
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from torch_geometric.datasets import TUDataset
from torch_geometric.utils import cumsum

from .features import (
    check_max_degree,
    collated_edge_index,
    constant_features,
    degree_one_hot,
)
from .manifest import tu_manifest

DATA_ENV = "GRAPHSAMPLER_DATA"
MIRROR_ENV = "GRAPHSAMPLER_TU_MIRROR"
NODE_FEATURES = ("auto", "constant", "degree", "labels+degree")
DEFAULT_MAX_DEGREE = 64
_AVG_TOLERANCE = 0.005  # relative tolerance of the manifest's average nodes/edges
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def load_tu(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    node_features: str = "auto",
    max_degree: int = DEFAULT_MAX_DEGREE,
    mirror: str | os.PathLike[str] | None = None,
) -> TUDataset:
    r"""Loads a supported TU dataset, checked against the manifest, with node features.

    Datasets without node labels (IMDB-BINARY, IMDB-MULTI, REDDIT-BINARY, COLLAB) get
    synthetic features, computed once over the whole in-memory storage (no per-item
    transform). Datasets with node labels (MUTAG, PROTEINS, NCI1) keep their one-hot
    node labels as features; only :obj:`"labels+degree"` adds to them.

    Args:
        name (str): One of :func:`graphsampler.data.known_datasets`, e.g.
            :obj:`"MUTAG"`, :obj:`"COLLAB"`.
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

    Returns:
        TUDataset: Graphs with :obj:`x` of shape :math:`[N, F]` (:math:`F`: node labels,
        1, degree columns, or labels plus degree columns) and :obj:`y` of shape
        :math:`[1]`.

    Example:
        >>> ds = load_tu("MUTAG", "/tmp/data", mirror="/work/shared/datasets/tu")
        >>> len(ds), ds.num_classes, ds.num_features
        (188, 2, 7)
    """
    manifest = tu_manifest()
    if name not in manifest:
        raise ValueError(f"unknown TU dataset {name!r}; known datasets: {', '.join(manifest)}")
    if node_features not in NODE_FEATURES:
        raise ValueError(
            f"node_features must be one of {', '.join(NODE_FEATURES)}; got {node_features!r}"
        )
    check_max_degree(max_degree)
    stats = manifest[name]
    root_dir = _resolve_root(root)
    mirror_dir = _resolve_mirror(mirror)
    raw_dir = root_dir / name / "raw"
    required = _required_raw_files(name, stats["node_labels"])

    needs_raw = not all((raw_dir / f).is_file() for f in required)
    if needs_raw and mirror_dir is not None and (mirror_dir / f"{name}.zip").is_file():
        zip_path = mirror_dir / f"{name}.zip"
        extract_tu_zip(zip_path, raw_dir, name, sha256=_mirror_checksum(mirror_dir, zip_path.name))
        shutil.rmtree(root_dir / name / "processed", ignore_errors=True)  # stale
        needs_raw = False

    dataset = _construct(root_dir, name, downloading=needs_raw, mirror=mirror_dir)
    _check_against_manifest(dataset, name, stats, root_dir / name)
    if dataset._data.x is None or node_features == "labels+degree":
        _set_synthetic_features(dataset, node_features, max_degree)
    return dataset


def extract_tu_zip(
    zip_path: str | os.PathLike[str],
    raw_dir: str | os.PathLike[str],
    name: str,
    *,
    sha256: str | None = None,
) -> None:
    r"""Safely extracts an official-layout TU zip into :obj:`raw_dir`, atomically.

    Entries :obj:`NAME/NAME_*.txt` land in :obj:`raw_dir/NAME_*.txt`, where
    :class:`~torch_geometric.datasets.TUDataset` expects them. The zip is extracted
    into a temporary folder beside :obj:`raw_dir` that is renamed into place only
    when complete (an incomplete :obj:`raw_dir` is replaced); on any error nothing is
    left behind, and a parent folder this call created is removed again.

    Args:
        zip_path (str or PathLike): The :obj:`NAME.zip` file.
        raw_dir (str or PathLike): Destination, normally :obj:`root/NAME/raw`.
        name (str): Dataset name, the prefix of the files in the zip.
        sha256 (str, optional): Expected hex SHA256 of the zip; checked first.

    Raises:
        ValueError: On a checksum mismatch, a corrupt or truncated zip, an entry with
            an absolute path or :obj:`..`, or a zip without :obj:`NAME_A.txt`,
            :obj:`NAME_graph_indicator.txt` and :obj:`NAME_graph_labels.txt`.

    Example:
        >>> extract_tu_zip("/work/shared/datasets/tu/MUTAG.zip", "/tmp/d/MUTAG/raw", "MUTAG")
    """
    zip_path, raw_dir = Path(zip_path), Path(raw_dir)
    if sha256 is not None:
        actual = _sha256(zip_path)
        if actual != sha256.lower():
            raise ValueError(
                f"SHA256 of {zip_path} is {actual}, but SHA256SUMS lists {sha256}; the "
                "file is corrupt or not the mirrored one: replace it with a fresh copy"
            )
    created = _missing_ancestors(raw_dir.parent)
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{raw_dir.name}-", dir=raw_dir.parent))
    try:
        _extract_members(zip_path, tmp_dir, name)
        missing = [f for f in _required_raw_files(name, False) if not (tmp_dir / f).is_file()]
        if missing:
            raise ValueError(
                f"{zip_path} is not in the official TU layout: it lacks "
                f"{', '.join(f'{name}/{f}' for f in missing)}"
            )
        if raw_dir.exists():
            shutil.rmtree(raw_dir)  # incomplete leftovers of an earlier attempt
        os.rename(tmp_dir, raw_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        for folder in created:  # deepest first
            _rmdir_if_empty(folder)
        raise


def _extract_members(zip_path: Path, dest: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            targets = [_safe_target(zip_path, m.filename, name) for m in members]
            for member, target in zip(members, targets):
                out = dest.joinpath(*target)
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, length=1 << 20)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ValueError(
            f"{zip_path} is corrupt or truncated ({exc}); replace it with a fresh copy"
        ) from exc


def _safe_target(zip_path: Path, entry: str, name: str) -> tuple[str, ...]:
    normalised = entry.replace("\\", "/")
    parts = PurePosixPath(normalised).parts
    if normalised.startswith("/") or _WINDOWS_DRIVE.match(normalised) or ".." in parts:
        raise ValueError(
            f"{zip_path} holds an unsafe entry {entry!r} (absolute path or '..'); "
            "refusing to extract it: use an official TU zip"
        )
    if len(parts) > 1 and parts[0] == name:
        parts = parts[1:]
    return parts


def _required_raw_files(name: str, node_labels: bool) -> list[str]:
    kinds = ["A", "graph_indicator", "graph_labels"] + (["node_labels"] if node_labels else [])
    return [f"{name}_{kind}.txt" for kind in kinds]


def _construct(root: Path, name: str, *, downloading: bool, mirror: Path | None) -> TUDataset:
    if not downloading:
        return TUDataset(str(root), name)
    created = _missing_ancestors(root / name / "raw")
    try:
        return TUDataset(str(root), name)
    except OSError as exc:  # DNS, connection refused, HTTP errors, timeouts
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        hint = (
            f"the mirror {mirror} has no {name}.zip: add it there"
            if mirror is not None
            else f"without internet access, set {MIRROR_ENV} (or pass mirror=) to a folder "
            f"holding {name}.zip in the official TU layout"
        )
        raise ConnectionError(
            f"could not download {name} from {TUDataset.url} ({exc}); {hint}"
        ) from exc


def _check_against_manifest(
    dataset: TUDataset, name: str, stats: dict[str, Any], folder: Path
) -> None:
    data = dataset._data
    num_graphs = len(dataset)
    loaded = {
        "graphs": num_graphs,
        "classes": 0 if data.y is None else int(data.y.unique().numel()),
        "avg_nodes": int(_node_slice(dataset)[-1]) / max(num_graphs, 1),
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


def _node_slice(dataset: TUDataset) -> torch.Tensor:
    if "x" in dataset.slices:
        return dataset.slices["x"]
    # Featureless TU datasets keep their per-graph node counts in `_num_nodes`.
    counts = getattr(dataset._data, "_num_nodes", None)
    if counts is None:
        raise ValueError(
            f"{dataset!r} records neither node features nor per-graph node counts; "
            "delete its processed/ folder so that PyG re-processes it"
        )
    return cumsum(torch.as_tensor(counts, dtype=torch.long))


def _set_synthetic_features(dataset: TUDataset, node_features: str, max_degree: int) -> None:
    data = dataset._data
    node_slice = _node_slice(dataset)
    num_nodes = int(node_slice[-1])
    if node_features in ("degree", "labels+degree"):
        edge_index = collated_edge_index(data.edge_index, dataset.slices["edge_index"], node_slice)
        largest = int(torch.bincount(edge_index[0], minlength=num_nodes).max()) \
            if num_nodes else 0
        degree = degree_one_hot(edge_index, num_nodes, max(1, min(max_degree, largest)))
        data.x = degree if data.x is None else torch.cat([data.x, degree], dim=1)
    else:  # "constant", or "auto" on a dataset without node labels
        data.x = constant_features(num_nodes, device=data.edge_index.device)
    dataset.slices["x"] = node_slice


def _resolve_root(root: str | os.PathLike[str] | None) -> Path:
    if root is None:
        root = os.environ.get(DATA_ENV) or "datasets"
    return Path(root).expanduser()


def _resolve_mirror(mirror: str | os.PathLike[str] | None) -> Path | None:
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
    if mirror is None:
        return None
    folder = Path(mirror).expanduser()
    if not folder.is_dir():
        raise ValueError(
            f"TU mirror {folder} is not a folder; point mirror= or {MIRROR_ENV} at a "
            "folder of NAME.zip files (or unset it to download)"
        )
    return folder


def _mirror_checksum(mirror: Path, filename: str) -> str | None:
    sums = mirror / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == filename:
            return fields[0]
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing_ancestors(folder: Path) -> list[Path]:
    r"""``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass

