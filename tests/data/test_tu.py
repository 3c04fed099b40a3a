import hashlib
import os
import shutil
import subprocess
import sys
import warnings

import networkx as nx
import pytest
import torch
from torch_geometric.datasets import TUDataset
from tu_zips import GRAPHS, _files_under, _tiny_zip, _tu_files, _write_zip

from graphsampler.data import known_datasets, load_tu, tu_manifest
from graphsampler.data import mirror as mirror_module
from graphsampler.data import tu as tu_module
from graphsampler.data.tu import TUDownloadError


def test_manifest_lists_the_supported_datasets():
    names = ["MUTAG", "PROTEINS", "NCI1", "IMDB-BINARY", "IMDB-MULTI", "REDDIT-BINARY", "COLLAB"]
    assert known_datasets() == names
    manifest = tu_manifest()
    assert manifest["COLLAB"]["avg_edges"] == pytest.approx(2457.22, abs=0.01)
    assert [n for n in names if manifest[n]["node_labels"]] == ["MUTAG", "PROTEINS", "NCI1"]
    for stats in manifest.values():
        assert set(stats) == {"graphs", "classes", "avg_nodes", "avg_edges", "node_labels",
                              "source"}
    manifest["MUTAG"]["graphs"] = 0  # a copy: editing it changes nothing
    assert tu_manifest()["MUTAG"]["graphs"] == 188


@pytest.mark.parametrize("name", ["", "../MUTAG", "MUTAG/x", "-x", 3])
def test_bad_name(tmp_path, name):
    with pytest.raises(ValueError, match=r"is not a TU dataset name \(letters, digits"):
        load_tu(name, tmp_path)
    assert _files_under(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"node_features must be one of auto, constant, "
                                         r"degree, labels\+degree; got 'onehot'"):
        load_tu("MUTAG", tmp_path, node_features="onehot")
    with pytest.raises(ValueError, match=r"max_degree must be an int >= 1, got 0"):
        load_tu("MUTAG", tmp_path, max_degree=0)
    with pytest.raises(ValueError, match=r"TU mirror .*nowhere is not a folder"):
        load_tu("MUTAG", tmp_path, mirror=tmp_path / "nowhere")
    assert _files_under(tmp_path) == []


@pytest.mark.parametrize("name, hint", [("MUTAGG", " (did you mean 'MUTAG'?)"),
                                        ("mutag", " (did you mean 'MUTAG'?)"),
                                        ("IMDB_BINARY", " (did you mean 'IMDB-BINARY'?)"),
                                        ("MUTAG", ""), ("PTC_MR", "")])
def test_mirror_without_the_zip(tmp_path, name, hint):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    message = (f"the TU mirror {mirror} has no {name}.zip{hint}: add the official zip "
               "there, or unset GRAPHSAMPLER_TU_MIRROR to download it")
    with pytest.raises(ValueError) as err:
        load_tu(name, tmp_path / "root", mirror=mirror)
    assert str(err.value) == message
    assert not (tmp_path / "root").exists()


def test_any_tu_name_loads_with_a_note_unless_verified(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(tu_module.DATA_ENV, raising=False)
    mirror = tmp_path / "mirror"
    digest = hashlib.sha256(_tiny_zip(mirror / "PTC_XY.zip", name="PTC_XY").read_bytes())
    with pytest.warns(UserWarning, match=r"^PTC_XY is not in graphsampler's manifest and no "
                                         r"SHA256SUMS entry verifies it: loaded unverified$"):
        ds = load_tu("PTC_XY", tmp_path / "a", mirror=mirror)
    assert len(ds) == 3 and ds.y.tolist() == [1, 0, 1] and ds.num_features == 1
    err = capsys.readouterr().err
    assert f"graphsampler: extracting {mirror / 'PTC_XY.zip'} (first load, cached after)" in err
    assert (f"graphsampler: processing 3 graphs of PTC_XY into {tmp_path / 'a' / 'PTC_XY'}"
            "/processed (first load, cached after)") in err

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = load_tu("PTC_XY", tmp_path / "a", mirror=mirror)  # cached: no note
        assert "graphsampler:" not in capsys.readouterr().err
        (mirror / "SHA256SUMS").write_text(f"{digest.hexdigest()}  PTC_XY.zip\n")
        verified = load_tu("PTC_XY", tmp_path / "b", mirror=mirror)  # checksum: no warning
    for other in (again, verified):
        torch.testing.assert_close(other._data.edge_index, ds._data.edge_index)


def test_truncated_cache_says_delete_and_rerun(tmp_path, tiny_manifest):
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    root = tmp_path / "root"
    load_tu("TINY", root, mirror=tmp_path / "mirror")
    cache = root / "TINY" / "processed" / "data.pt"
    blob = cache.read_bytes()
    for broken in (blob[: len(blob) // 2], b""):
        cache.write_bytes(broken)
        with pytest.raises(ValueError, match=rf"^cannot read {cache} \(\w+Error: [^\n]*\): "
                                             rf"delete {root / 'TINY' / 'processed'} and "
                                             r"rerun$"):
            load_tu("TINY", root, mirror=tmp_path / "mirror")
    shutil.rmtree(root / "TINY" / "processed")  # the fix the message names
    assert len(load_tu("TINY", root, mirror=tmp_path / "mirror")) == 3


def _networkx_degrees() -> list[int]:
    graph = nx.Graph()
    graph.add_nodes_from(range(1, 12))
    graph.add_edges_from(e for edges in GRAPHS for e in edges)
    return [graph.degree[v] for v in range(1, 12)]


def test_a_relative_mirror_is_relative_to_the_start_folder(tmp_path, tiny_manifest,
                                                           monkeypatch):
    # The README's `export GRAPHSAMPLER_TU_MIRROR=../shared/datasets/tu`: a later chdir
    # (a test's, a script's) must not move the mirror.
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    (tmp_path / "start").mkdir()
    (tmp_path / "elsewhere" / "deeper").mkdir(parents=True)
    monkeypatch.setattr(mirror_module, "START_DIR", tmp_path / "start")
    monkeypatch.setenv(tu_module.MIRROR_ENV, "../mirror")
    monkeypatch.chdir(tmp_path / "elsewhere" / "deeper")  # here ../mirror is no mirror

    ds = load_tu("TINY", tmp_path / "root")

    assert len(ds) == 3
    assert mirror_module.resolve_mirror(None).samefile(tmp_path / "mirror")
    assert mirror_module.resolve_mirror(None).is_absolute()
    # An argument is relative to the current folder, as any path argument.
    assert mirror_module.resolve_mirror("../../mirror").samefile(tmp_path / "mirror")
    with pytest.raises(ValueError, match=r"TU mirror .*deeper/\.\./mirror is not a folder"):
        mirror_module.resolve_mirror("../mirror")


def test_the_start_folder_is_taken_at_import(tmp_path):
    (tmp_path / "m").mkdir()
    code = ("from graphsampler.data import mirror; import os; os.chdir('/'); "
            "print(mirror.START_DIR, mirror.resolve_mirror(None))")
    env = {**os.environ, tu_module.MIRROR_ENV: "m"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(tmp_path), str(tmp_path / "m")]


@pytest.mark.parametrize("max_degree", [2, 3, 10])
def test_degree_features_set_on_storage(tmp_path, tiny_manifest, monkeypatch, max_degree):
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    monkeypatch.setenv(tu_module.MIRROR_ENV, str(tmp_path / "mirror"))

    ds = load_tu("TINY", tmp_path / "root", node_features="degree", max_degree=max_degree)

    cap = min(max_degree, max(_networkx_degrees()))  # no column that is always zero
    want = torch.zeros(11, cap + 1)
    want[torch.arange(11), torch.tensor(_networkx_degrees()).clamp(max=cap)] = 1
    assert ds.num_features == cap + 1
    torch.testing.assert_close(ds._data.x, want)  # set once on the storage, not per item
    assert ds.transform is None
    starts = [0, 4, 6, 11]
    for i in range(3):
        torch.testing.assert_close(ds[i].x, want[starts[i]:starts[i + 1]])
        assert ds[i].num_nodes == starts[i + 1] - starts[i]


@pytest.mark.parametrize("mode", ["auto", "constant"])
def test_constant_features(tmp_path, tiny_manifest, mode):
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    ds = load_tu("TINY", tmp_path / "root", node_features=mode, mirror=tmp_path / "mirror")
    assert ds.num_features == 1
    assert [ds[i].x.tolist() for i in range(3)] == [[[1.0]] * n for n in (4, 2, 5)]


@pytest.mark.parametrize("mode", ["auto", "constant", "degree"])
def test_node_labels_are_kept(tmp_path, tiny_manifest, mode):
    _tiny_zip(tmp_path / "mirror" / "LABELLED.zip", name="LABELLED", node_labels=True)
    ds = load_tu("LABELLED", tmp_path / "root", node_features=mode, mirror=tmp_path / "mirror")
    want = torch.nn.functional.one_hot(torch.arange(11) % 3, 3).float()
    torch.testing.assert_close(ds._data.x, want)


@pytest.mark.parametrize("max_degree", [2, 64])
def test_labels_plus_degree_features(tmp_path, tiny_manifest, max_degree):
    _tiny_zip(tmp_path / "mirror" / "LABELLED.zip", name="LABELLED", node_labels=True)
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    for name, labels in (("LABELLED", torch.nn.functional.one_hot(torch.arange(11) % 3, 3)),
                         ("TINY", torch.zeros(11, 0))):
        ds = load_tu(name, tmp_path / "root", node_features="labels+degree",
                     max_degree=max_degree, mirror=tmp_path / "mirror")
        cap = min(max_degree, max(_networkx_degrees()))
        degree = torch.nn.functional.one_hot(
            torch.tensor(_networkx_degrees()).clamp(max=cap), cap + 1)
        torch.testing.assert_close(ds._data.x, torch.cat([labels, degree], 1).float())
        assert ds[1].x.shape == (2, labels.size(1) + cap + 1)


def test_data_root_from_env(tmp_path, tiny_manifest, monkeypatch):
    _tiny_zip(tmp_path / "mirror" / "TINY.zip")
    monkeypatch.setenv(tu_module.DATA_ENV, str(tmp_path / "envroot"))
    load_tu("TINY", mirror=tmp_path / "mirror")
    assert (tmp_path / "envroot" / "TINY" / "raw" / "TINY_A.txt").is_file()


def test_manifest_mismatch(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _tiny_zip(mirror / "MUTAG.zip", name="MUTAG")
    monkeypatch.setenv(tu_module.MIRROR_ENV, str(mirror))
    root = tmp_path / "root"
    with pytest.raises(ValueError, match=r"MUTAG in .*root/MUTAG does not match the manifest: "
                                         r"graphs is 3, expected 188; .*avg_nodes is 3\.67, "
                                         r"expected 17\.93.*node_labels is False, expected "
                                         r"True\. Delete .*root/MUTAG to re-extract"):
        load_tu("MUTAG", root)


def test_download_failure_says_how_to_work_offline(tmp_path, monkeypatch):
    def offline(self):
        raise OSError("Cannot connect to host www.chrsmrrs.com:443")

    monkeypatch.setattr(TUDataset, "download", offline)
    monkeypatch.delenv(tu_module.MIRROR_ENV, raising=False)
    root = tmp_path / "root"
    with pytest.raises(TUDownloadError, match=r"could not download MUTAG from .*Cannot "
                                              r"connect.*; without internet access, set "
                                              r"GRAPHSAMPLER_TU_MIRROR"):
        load_tu("MUTAG", root)
    assert not root.exists()
    assert issubclass(TUDownloadError, ValueError) and issubclass(TUDownloadError, OSError)


@pytest.mark.parametrize("name, hint", [("MUTAGG", " (did you mean 'MUTAG'?)"),
                                        ("NO_SUCH_SET", "")])
def test_name_the_server_lacks_is_unknown(tmp_path, monkeypatch, name, hint):
    def not_found(self):
        raise FileNotFoundError(f"{TUDataset.url}/{name}.zip")

    monkeypatch.setattr(TUDataset, "download", not_found)
    monkeypatch.delenv(tu_module.MIRROR_ENV, raising=False)
    root = tmp_path / "root"
    with pytest.raises(ValueError, match=rf"^unknown TU dataset '{name}'"
                                         rf"{hint.replace('(', '[(]').replace('?)', '[?][)]')}"
                                         rf": the TU server has no {name}\.zip \("):
        load_tu(name, root)
    assert not root.exists()


@pytest.mark.slow
def test_mutag_from_the_real_mirror(tmp_path, monkeypatch, tu_mirror):
    monkeypatch.delenv(tu_module.DATA_ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    ds = load_tu("MUTAG")  # default root: ./datasets

    assert (tmp_path / "datasets" / "MUTAG" / "raw" / "MUTAG_A.txt").is_file()
    assert len(ds) == 188 and ds.num_classes == 2
    assert ds.num_features == 7  # the one-hot node labels, even with node_features="auto"
    assert (ds._data.x.sum(dim=1) == 1).all()
    assert ds._data.edge_index.size(1) / 2 / 188 == pytest.approx(19.79, abs=0.01)
    again = load_tu("MUTAG", node_features="degree")  # cached; labels kept
    torch.testing.assert_close(again._data.x, ds._data.x)


def test_node_attributes_come_before_the_labels_when_asked(tmp_path, tiny_manifest):
    files = _tu_files("LABELLED", node_labels=True)
    attrs = [[0.5 * i, -float(i)] for i in range(11)]
    files["LABELLED_node_attributes.txt"] = "\n".join(f"{a}, {b}" for a, b in attrs) + "\n"
    mirror = tmp_path / "mirror"
    _write_zip(mirror / "LABELLED.zip", {f"LABELLED/{f}": t for f, t in files.items()})

    plain = load_tu("LABELLED", tmp_path / "root", mirror=mirror)
    ds = load_tu("LABELLED", tmp_path / "root", mirror=mirror, node_attributes=True)

    assert plain.num_features == 3 and ds.num_features == 5  # 2 attributes + 3 labels
    torch.testing.assert_close(ds._data.x[:, :2], torch.tensor(attrs))
    torch.testing.assert_close(ds._data.x[:, 2:], plain._data.x)
    _tiny_zip(mirror / "TINY.zip")
    with pytest.raises(ValueError, match=r"^TINY has no node attributes \(no "
                                         r"TINY_node_attributes.txt\); drop node_attributes"):
        load_tu("TINY", tmp_path / "root", mirror=mirror, node_attributes=True)
