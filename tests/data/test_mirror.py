"""The TU mirror: zips extracted safely and completely, checksums verified (the loader
around it is tests/data/test_tu.py)."""
import hashlib
import zipfile

import pytest
from torch_geometric.datasets import TUDataset
from tu_zips import GRAPHS, _files_under, _tiny_zip, _tu_files, _write_zip

from graphsampler.data import load_tu
from graphsampler.data.mirror import extract_tu_zip


def test_extract_valid_zip_gives_the_graphs(tmp_path):
    zip_path = _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    raw = tmp_path / "root" / "TINY" / "raw"

    extract_tu_zip(zip_path, raw, "TINY")

    assert sorted(p.name for p in raw.iterdir()) == sorted(_tu_files("TINY"))
    assert [p.name for p in raw.parent.iterdir()] == ["raw"]  # no temp folder left
    ds = TUDataset(str(tmp_path / "root"), "TINY")
    assert len(ds) == 3 and ds.y.tolist() == [1, 0, 1]
    offsets = [0, 4, 6]
    for i, edges in enumerate(GRAPHS):
        got = {tuple(e) for e in ds[i].edge_index.t().tolist()}
        want = {(u - 1 - offsets[i], v - 1 - offsets[i]) for u, v in edges}
        assert got == want | {(v, u) for u, v in want}


def test_extract_replaces_an_incomplete_raw_folder(tmp_path):
    raw = tmp_path / "TINY" / "raw"
    raw.mkdir(parents=True)
    (raw / "TINY_A.txt").write_text("1, 2\n")
    extract_tu_zip(_tiny_zip(tmp_path / "TINY.zip"), raw, "TINY")
    assert (raw / "TINY_A.txt").read_text() == _tu_files("TINY")["TINY_A.txt"]
    assert (raw / "TINY_graph_labels.txt").is_file()


@pytest.mark.parametrize("entry", ["../evil.txt", "TINY/../../evil.txt", "/tmp/evil.txt",
                                   "C:/evil.txt", "..\\evil.txt"])
def test_unsafe_entries_are_refused(tmp_path, entry):
    entries = {f"TINY/{f}": t for f, t in _tu_files("TINY").items()}
    entries[entry] = "boom"
    zip_path = _write_zip(tmp_path / "mirror" / "TINY.zip", entries)
    root = tmp_path / "root"
    root.mkdir()

    with pytest.raises(ValueError, match=r"TINY\.zip holds an unsafe entry .*evil\.txt.* "
                                         r"\(absolute path or '\.\.'\)"):
        extract_tu_zip(zip_path, root / "TINY" / "raw", "TINY")

    assert _files_under(root) == []
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "mirror" / "evil.txt").exists()


def test_truncated_zip_is_refused_and_leaves_nothing(tmp_path, tiny_manifest):
    full = _tiny_zip(tmp_path / "full.zip").read_bytes()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "TINY.zip").write_bytes(full[: len(full) // 2])
    root = tmp_path / "root"

    with pytest.raises(ValueError, match=r"TINY\.zip is corrupt or truncated"):
        load_tu("TINY", root, mirror=mirror)

    assert _files_under(root) == []


def test_corrupt_member_is_refused_and_partial_files_removed(tmp_path):
    # The last member's compressed bytes are flipped: the first members extract fine,
    # then the CRC check fails; nothing of the partial extraction may remain.
    files = _tu_files("TINY")
    files["TINY_zz.txt"] = "x" * 5000
    zip_path = _write_zip(tmp_path / "TINY.zip", {f"TINY/{f}": t for f, t in files.items()})
    blob = bytearray(zip_path.read_bytes())
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo("TINY/TINY_zz.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 2, start + info.compress_size - 2):
        blob[k] ^= 0xFF
    zip_path.write_bytes(bytes(blob))
    root = tmp_path / "root"

    with pytest.raises(ValueError, match=r"TINY\.zip is corrupt or truncated"):
        extract_tu_zip(zip_path, root / "TINY" / "raw", "TINY")

    assert not root.exists()


def test_zip_without_tu_layout_is_refused(tmp_path):
    files = _tu_files("TINY")
    del files["TINY_graph_labels.txt"]
    zip_path = _write_zip(tmp_path / "TINY.zip", {f"TINY/{f}": t for f, t in files.items()})
    with pytest.raises(ValueError, match=r"not in the official TU layout: it lacks "
                                         r"TINY/TINY_graph_labels\.txt"):
        extract_tu_zip(zip_path, tmp_path / "root" / "TINY" / "raw", "TINY")
    assert not (tmp_path / "root").exists()


def test_sha256sums_are_verified(tmp_path, tiny_manifest):
    mirror = tmp_path / "mirror"
    digest = hashlib.sha256(_tiny_zip(mirror / "TINY.zip").read_bytes()).hexdigest()
    root = tmp_path / "root"

    (mirror / "SHA256SUMS").write_text(f"{'0' * 64}  TINY.zip\n{digest}  OTHER.zip\n")
    with pytest.raises(ValueError, match=r"SHA256 of .*TINY\.zip is [0-9a-f]{64}, but "
                                         r"SHA256SUMS lists 0{64}"):
        load_tu("TINY", root, mirror=mirror)
    assert _files_under(root) == []

    (mirror / "SHA256SUMS").write_text(f"{digest}  TINY.zip\n")
    assert len(load_tu("TINY", root, mirror=mirror)) == 3
