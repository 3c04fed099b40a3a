import math
import os
import zipfile

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data, InMemoryDataset
from torch_geometric.loader import DataLoader

from graphsampler.augment import diffusion
from graphsampler.augment.diffusion import add_diffusion, ppr_diffusion

TINY_BUDGET = 64  # bytes: forces the in-place path with one-row blocks


def random_graph(n: int, p: float, seed: int) -> torch.Tensor:
    """TU-style edge_index: undirected, both directions stored, no self-loops."""
    graph = nx.gnp_random_graph(n, p, seed=seed)
    edges = [(u, v) for u, v in graph.edges()] + [(v, u) for u, v in graph.edges()]
    return torch.tensor(edges, dtype=torch.long).reshape(-1, 2).t().contiguous()


def dense_ppr(edge_index: torch.Tensor, n: int, alpha: float) -> np.ndarray:
    """MVGRL's compute_ppr, written from the formula with a dense numpy inverse."""
    a = np.zeros((n, n))
    a[edge_index[0].numpy(), edge_index[1].numpy()] = 1.0
    a[edge_index[1].numpy(), edge_index[0].numpy()] = 1.0
    a += np.eye(n)
    d_inv_sqrt = np.diag(a.sum(1) ** -0.5)
    return alpha * np.linalg.inv(np.eye(n) - (1 - alpha) * d_inv_sqrt @ a @ d_inv_sqrt)


def to_dense(edge_index: torch.Tensor, weight: torch.Tensor, n: int) -> np.ndarray:
    """S_sparse[target, source] = weight (the documented edge direction)."""
    out = np.zeros((n, n))
    out[edge_index[1].numpy(), edge_index[0].numpy()] = weight.double().numpy()
    return out


def components(edge_index: torch.Tensor, n: int) -> np.ndarray:
    """Component size of every node."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edge_index.t().tolist())
    size = np.zeros(n, dtype=int)
    for comp in nx.connected_components(graph):
        size[list(comp)] = len(comp)
    return size


class GraphList(InMemoryDataset):
    def __init__(self, data_list, root=None):
        super().__init__(root)
        self.data, self.slices = self.collate(data_list)


def synthetic_dataset(root=None, seed=0) -> GraphList:
    sizes = [5, 9, 5, 1, 12, 9, 5, 3, 12]  # repeated sizes: batched chunks of g > 1
    data_list = [Data(x=torch.ones(n, 2), edge_index=random_graph(n, 0.4, seed + i),
                      y=torch.tensor([i]))
                 for i, n in enumerate(sizes)]
    return GraphList(data_list, root)


@pytest.mark.parametrize("n", [1, 2, 7, 15])
@pytest.mark.parametrize("alpha", [0.2, 0.55])
@pytest.mark.parametrize("budget", [diffusion.DEFAULT_MEMORY_BUDGET, TINY_BUDGET])
def test_full_topk_equals_dense_inverse(n, alpha, budget):
    edge_index = random_graph(n, 0.35, seed=n)
    out_index, weight = ppr_diffusion(edge_index, n, alpha=alpha, k=n,
                                      memory_budget=budget)
    assert out_index.dtype == torch.long and weight.dtype == torch.float32
    np.testing.assert_allclose(to_dense(out_index, weight, n),
                               dense_ppr(edge_index, n, alpha), rtol=1e-6, atol=1e-7)
    # Every within-component entry, and only those, once.
    assert out_index.size(1) == components(edge_index, n).sum()  # sum of sizes^2
    assert torch.unique(out_index[1] * n + out_index[0]).numel() == out_index.size(1)


def test_relation_to_networkx_personalized_pagerank():
    # pi_i(j) = D^-1/2_ii S_ij D^1/2_jj for the walk on A + I, restart prob alpha.
    n, alpha = 14, 0.2
    edge_index = random_graph(n, 0.3, seed=3)
    assert components(edge_index, n).min() == n  # connected
    s = to_dense(*ppr_diffusion(edge_index, n, alpha=alpha, k=n), n)
    graph = nx.Graph(edge_index.t().tolist())
    graph.add_edges_from((i, i) for i in range(n))  # the reference's A + I
    degree = np.array([sum(1 for _ in graph.neighbors(i)) for i in range(n)], float)
    for i in range(n):
        pr = nx.pagerank(graph, alpha=1 - alpha, personalization={i: 1.0},
                         tol=1e-14, max_iter=10_000)
        pi = np.array([pr[j] for j in range(n)])
        np.testing.assert_allclose(pi, s[i] * np.sqrt(degree / degree[i]),
                                   rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s, s.T, atol=1e-7)  # S is symmetric


@pytest.mark.parametrize("k", [1, 3, 7, 20, 40])
@pytest.mark.parametrize("budget", [diffusion.DEFAULT_MEMORY_BUDGET, TINY_BUDGET])
def test_topk_keeps_min_k_n_largest_per_row(k, budget):
    n = 20
    edge_index = random_graph(n, 0.15, seed=7)
    s = dense_ppr(edge_index, n, 0.2)
    out_index, weight = ppr_diffusion(edge_index, n, k=k, memory_budget=budget)
    size = components(edge_index, n)
    for i in range(n):
        mine = out_index[1] == i
        cols, kept = out_index[0][mine].numpy(), weight[mine].double().numpy()
        assert len(cols) == min(k, size[i])  # == min(k, n) when connected
        np.testing.assert_allclose(kept, s[i, cols], rtol=1e-6)
        top = np.sort(s[i])[::-1][:len(cols)]
        np.testing.assert_allclose(np.sort(kept)[::-1], top, rtol=1e-6)
        assert (s[i, cols] > 0).all()


def test_topk_with_k_at_least_n_on_a_connected_graph_keeps_every_entry():
    path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    out_index, _ = ppr_diffusion(path, 4, k=9)
    assert torch.bincount(out_index[1], minlength=4).tolist() == [4, 4, 4, 4]


@pytest.mark.parametrize("budget", [diffusion.DEFAULT_MEMORY_BUDGET, TINY_BUDGET])
def test_threshold_keeps_exactly_the_entries_at_least_eps(budget):
    n = 18
    edge_index = random_graph(n, 0.2, seed=11)
    s = dense_ppr(edge_index, n, 0.2)
    values = np.unique(s[np.triu_indices(n)])
    values = values[values > 0]
    # Midway between two distinct entries (S is symmetric, so S_ij and S_ji are one
    # value up to rounding): no rounding ambiguity at the threshold.
    gaps = np.flatnonzero(np.diff(values) > 1e-6 * values[1:])
    for q in (0.1, 0.5, 0.9):
        at = gaps[int(q * (len(gaps) - 1))]
        eps = (values[at] + values[at + 1]) / 2
        out_index, weight = ppr_diffusion(edge_index, n, sparsify="threshold",
                                          eps=eps, memory_budget=budget)
        expected = set(zip(*np.nonzero(s >= eps)))
        kept = set(zip(out_index[1].tolist(), out_index[0].tolist()))
        assert kept == expected
        assert (weight >= eps * (1 - 1e-6)).all()
        np.testing.assert_allclose(to_dense(out_index, weight, n),
                                   np.where(s >= eps, s, 0.0), rtol=1e-6)


@pytest.mark.parametrize("budget", [diffusion.DEFAULT_MEMORY_BUDGET, TINY_BUDGET])
@pytest.mark.parametrize("sparsify", ["topk", "threshold"])
def test_disconnected_graph_keeps_no_cross_component_entry(budget, sparsify):
    # Triangle {0, 1, 2}, edge {3, 5}, isolated node 4 (self-loop only: S_44 = 1).
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 0, 3, 5], [1, 0, 2, 1, 0, 2, 5, 3]])
    out_index, weight = ppr_diffusion(edge_index, 6, sparsify=sparsify, k=6,
                                      eps=1e-12, memory_budget=budget)
    component = torch.tensor([0, 0, 0, 1, 2, 1])
    assert (component[out_index[0]] == component[out_index[1]]).all()
    assert out_index.size(1) == 9 + 4 + 1
    isolated = out_index[1] == 4
    assert out_index[0][isolated].tolist() == [4]
    assert weight[isolated].item() == pytest.approx(1.0)


def test_duplicate_and_one_directional_edges_count_as_undirected():
    both = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    messy = torch.tensor([[0, 0, 2, 1], [1, 1, 1, 0]])  # duplicates, one direction
    ref_index, ref_weight = ppr_diffusion(both, 3, k=3)
    out_index, out_weight = ppr_diffusion(messy, 3, k=3)
    np.testing.assert_array_equal(to_dense(out_index, out_weight, 3),
                                  to_dense(ref_index, ref_weight, 3))


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


def test_parameter_errors():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    for alpha in (0.0, 1.0, -0.2, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match=r"alpha \(teleport probability\) must be "
                                             r"in \(0, 1\)"):
            ppr_diffusion(edge_index, 2, alpha=alpha)
    with pytest.raises(ValueError, match="sparsify must be one of"):
        ppr_diffusion(edge_index, 2, sparsify="ppr")
    for k in (0, -3, 2.0, True):
        with pytest.raises(ValueError, match=r"k \(entries kept per row\) must be a "
                                             r"positive int"):
            ppr_diffusion(edge_index, 2, k=k)
    for eps in (0.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match=r"eps \(smallest entry kept\) must be a "
                                             r"positive float"):
            ppr_diffusion(edge_index, 2, sparsify="threshold", eps=eps)
    ppr_diffusion(edge_index, 2, sparsify="topk", eps=-1.0)  # eps unused with topk
    with pytest.raises(ValueError, match="memory_budget must be a positive int"):
        ppr_diffusion(edge_index, 2, memory_budget=0)
    with pytest.raises(ValueError, match="alpha"):
        add_diffusion(synthetic_dataset(), alpha=1.0)


def test_graph_errors():
    with pytest.raises(ValueError, match="num_nodes must be a positive int"):
        ppr_diffusion(torch.empty(2, 0, dtype=torch.long), 0)
    with pytest.raises(ValueError, match=r"edge_index must be an int64 tensor of shape "
                                         r"\[2, num_edges\]"):
        ppr_diffusion(torch.tensor([[0, 1, 1]]), 2)
    with pytest.raises(ValueError, match="edge_index must be an int64"):
        ppr_diffusion(torch.tensor([[0.0], [1.0]]), 2)
    with pytest.raises(ValueError, match=r"node indices outside \[0, 2\)"):
        ppr_diffusion(torch.tensor([[0], [2]]), 2)
    with pytest.raises(ValueError, match="dataset must be a torch_geometric "
                                         "InMemoryDataset"):
        add_diffusion([Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)])
    empty = GraphList([Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2),
                       Data(edge_index=torch.empty(2, 0, dtype=torch.long),
                            num_nodes=0)])
    with pytest.raises(ValueError, match="graph 1 has no nodes"):
        add_diffusion(empty, progress=False)
    no_edges = GraphList([Data(x=torch.ones(2, 1)), Data(x=torch.ones(3, 1))])
    with pytest.raises(ValueError, match="must hold its graphs' edge_index"):
        add_diffusion(no_edges, progress=False)


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


@pytest.mark.cuda
def test_cuda_matches_cpu():
    edge_index = random_graph(30, 0.2, seed=5)
    for budget in (diffusion.DEFAULT_MEMORY_BUDGET, TINY_BUDGET):
        cpu = to_dense(*ppr_diffusion(edge_index, 30, k=8, memory_budget=budget), 30)
        out_index, weight = ppr_diffusion(edge_index.cuda(), 30, k=8,
                                          memory_budget=budget)
        assert out_index.is_cuda and weight.is_cuda
        np.testing.assert_allclose(to_dense(out_index.cpu(), weight.cpu(), 30), cpu,
                                   rtol=1e-6, atol=1e-8)
