r"""A TU *mirror*: a local folder of official TU zips, their checksums, safe extraction.

A mirror holds :obj:`NAME.zip` files in the official TU layout
(:obj:`NAME/NAME_A.txt`, :obj:`NAME/NAME_graph_indicator.txt`, ...), optionally with a
:obj:`SHA256SUMS` file (``sha256sum`` format). :func:`extract_tu_zip` verifies a zip
against its checksum and extracts it safely and atomically where PyG's
:class:`~torch_geometric.datasets.TUDataset` expects the raw files.

Example:
    .. code-block:: python

        mirror = resolve_mirror("../shared/datasets/tu")
        sha = mirror_checksum(mirror, "MUTAG.zip")   # None without a SHA256SUMS entry
        extract_tu_zip(mirror / "MUTAG.zip", "datasets/MUTAG/raw", "MUTAG", sha256=sha)
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

MIRROR_ENV = "GRAPHSAMPLER_TU_MIRROR"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def _start_dir() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the working folder was deleted
        return None


#: The folder the process started in (when this module was first imported): a relative
#: :obj:`GRAPHSAMPLER_TU_MIRROR` is relative to it, whatever folder a later call runs in.
START_DIR = _start_dir()


def resolve_mirror(mirror: str | os.PathLike[str] | None) -> Path | None:
    r"""The mirror folder: :obj:`mirror`, else env :obj:`GRAPHSAMPLER_TU_MIRROR`, else
    :obj:`None` (download), as an absolute path.

    A relative :obj:`mirror` is relative to the current folder, as any path argument; a
    relative :obj:`GRAPHSAMPLER_TU_MIRROR` (``export GRAPHSAMPLER_TU_MIRROR=../shared/
    datasets/tu``) is relative to the folder the process started in (:data:`START_DIR`),
    so that it names the same folder after a :func:`os.chdir`.

    Raises:
        ValueError: If the folder does not exist.
    """
    base = Path.cwd
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
        base = (lambda: START_DIR) if START_DIR is not None else Path.cwd
    if mirror is None:
        return None
    folder = Path(mirror).expanduser()
    if not folder.is_absolute():
        folder = base() / folder
    if not folder.is_dir():
        raise ValueError(
            f"TU mirror {folder} is not a folder; point mirror= or {MIRROR_ENV} at a "
            "folder of NAME.zip files (or unset it to download)"
        )
    return folder


def mirror_checksum(mirror: Path, filename: str) -> str | None:
    r"""The SHA256 that :obj:`mirror/SHA256SUMS` lists for :obj:`filename`, if any."""
    sums = mirror / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == filename:
            return fields[0]
    return None


def required_raw_files(name: str, node_labels: bool) -> list[str]:
    r"""The raw files a TU dataset cannot do without (and its node labels, if asked)."""
    kinds = ["A", "graph_indicator", "graph_labels"] + (["node_labels"] if node_labels else [])
    return [f"{name}_{kind}.txt" for kind in kinds]


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
        .. code-block:: python

            extract_tu_zip("mirror/MUTAG.zip", "datasets/MUTAG/raw", "MUTAG")
    """
    zip_path, raw_dir = Path(zip_path), Path(raw_dir)
    if sha256 is not None:
        actual = _sha256(zip_path)
        if actual != sha256.lower():
            raise ValueError(
                f"SHA256 of {zip_path} is {actual}, but SHA256SUMS lists {sha256}; the "
                "file is corrupt or not the mirrored one: replace it with a fresh copy"
            )
    created = missing_ancestors(raw_dir.parent)
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{raw_dir.name}-", dir=raw_dir.parent))
    try:
        _extract_members(zip_path, tmp_dir, name)
        missing = [f for f in required_raw_files(name, False) if not (tmp_dir / f).is_file()]
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_ancestors(folder: Path) -> list[Path]:
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
