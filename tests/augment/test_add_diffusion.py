"""add_diffusion: a dataset's diffusion view, per graph as ppr_diffusion gives it, batched,
cached (the per-graph diffusion is tests/augment/test_diffusion.py)."""
import math
import os
import zipfile

import numpy as np
import pytest
import torch
from ppr_reference import TINY_BUDGET, dense_ppr, synthetic_dataset, to_dense
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from graphsampler.augment import diffusion
from graphsampler.augment.diffusion import add_diffusion, ppr_diffusion


@pytest.mark.parametrize("budget", [diffusion.DEFAULT_MEMORY_BUDGET, 3_000,
                                    TINY_BUDGET])
@pytest.mark.parametrize("sparsify", ["topk", "threshold"])
def test_dataset_matches_per_graph_diffusion(budget, sparsify):
    dataset = add_diffusion(synthetic_dataset(), sparsify=sparsify, k=4, eps=0.02,
                            progress=False, memory_budget=budget)
    for i in range(len(dataset)):
        data = dataset[i]
        ref_index, ref_weight = ppr_diffusion(data.edge_index, data.num_nodes,
                                              sparsify=sparsify, k=4, eps=0.02)
        np.testing.assert_allclose(
            to_dense(data.diff_edge_index, data.diff_edge_weight, data.num_nodes),
            to_dense(ref_index, ref_weight, data.num_nodes), rtol=1e-6, atol=1e-8)
        assert data.diff_edge_index.size(1) == ref_index.size(1)


def test_batching_offsets_diff_edge_index():
    dataset = add_diffusion(synthetic_dataset(), k=3, progress=False)
    graphs = [dataset[i] for i in range(len(dataset))]
    batch = Batch.from_data_list(graphs)
    offsets = np.cumsum([0] + [g.num_nodes for g in graphs[:-1]])
    expected = torch.cat([g.diff_edge_index + int(o) for g, o in zip(graphs, offsets)],
                         dim=1)
    assert torch.equal(batch.diff_edge_index, expected)
    assert torch.equal(batch.diff_edge_weight,
                       torch.cat([g.diff_edge_weight for g in graphs]))
    loaded = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    assert torch.equal(loaded.diff_edge_index, expected)
    # Every diffusion edge stays inside its own graph.
    assert torch.equal(loaded.batch[loaded.diff_edge_index[0]],
                       loaded.batch[loaded.diff_edge_index[1]])


def test_subset_view_gets_the_diffusion_of_its_graphs():
    full = add_diffusion(synthetic_dataset(), k=3, progress=False)
    subset = add_diffusion(synthetic_dataset()[[4, 1, 7]], k=3, progress=False)
    for j, i in enumerate([4, 1, 7]):
        assert torch.equal(subset[j].diff_edge_index, full[i].diff_edge_index)


def test_cache_is_reused_and_rebuilt_when_parameters_or_graphs_change(
        tmp_path, monkeypatch):
    calls = []
    compute = diffusion.ppr_diffusion_graphs

    def counting(*args, **kwargs):
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(diffusion, "ppr_diffusion_graphs", counting)
    first = add_diffusion(synthetic_dataset(tmp_path), k=3, progress=False)
    cache_files = os.listdir(first.processed_dir)
    assert len(calls) == 1 and len(cache_files) == 1
    assert cache_files[0].startswith("ppr_diffusion_")

    again = add_diffusion(synthetic_dataset(tmp_path), k=3, progress=False)
    assert len(calls) == 1  # loaded
    assert torch.equal(again._data.diff_edge_index, first._data.diff_edge_index)
    assert torch.equal(again._data.diff_edge_weight, first._data.diff_edge_weight)
    assert torch.equal(again[4].diff_edge_index, first[4].diff_edge_index)

    for kwargs in ({"k": 4}, {"k": 3, "alpha": 0.3}, {"sparsify": "threshold"},
                   {"sparsify": "threshold", "eps": 0.01}):
        add_diffusion(synthetic_dataset(tmp_path), progress=False, **kwargs)
    assert len(calls) == 5
    add_diffusion(synthetic_dataset(tmp_path, seed=1), k=3, progress=False)  # graphs
    assert len(calls) == 6
    assert len(os.listdir(first.processed_dir)) == 6
    add_diffusion(synthetic_dataset(tmp_path), k=4, progress=False)
    assert len(calls) == 6

    other = tmp_path / "elsewhere"
    add_diffusion(synthetic_dataset(), k=3, cache_dir=str(other), progress=False)
    assert len(calls) == 7 and len(os.listdir(other)) == 1


def test_no_cache_without_root(monkeypatch):
    def fail(*args):
        raise AssertionError("wrote a cache")

    monkeypatch.setattr(diffusion, "_save_cache", fail)
    add_diffusion(synthetic_dataset(root=None), progress=False)


@pytest.mark.slow
def test_mutag_full_diffusion_matches_reference(tmp_path, tu_mirror):
    from torch_geometric.datasets import TUDataset
    raw = tmp_path / "MUTAG" / "raw"
    raw.mkdir(parents=True)
    with zipfile.ZipFile(tu_mirror / "MUTAG.zip") as archive:
        for member in archive.namelist():
            if member.endswith(".txt"):
                (raw / os.path.basename(member)).write_bytes(archive.read(member))
    dataset = add_diffusion(TUDataset(str(tmp_path), "MUTAG"), k=28, progress=False)
    assert len(dataset) == 188
    for data in dataset:
        n = data.num_nodes
        assert data.diff_edge_index.size(1) == n * n  # every MUTAG graph is connected
        np.testing.assert_allclose(
            to_dense(data.diff_edge_index, data.diff_edge_weight, n),
            dense_ppr(data.edge_index, n, 0.2), rtol=1e-5, atol=1e-7)
    assert math.isclose(float(dataset._data.diff_edge_weight.sum()),
                        sum(dense_ppr(d.edge_index, d.num_nodes, 0.2).sum()
                            for d in dataset), rel_tol=1e-5)
