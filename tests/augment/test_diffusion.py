import networkx as nx
import numpy as np
import pytest
import torch
from ppr_reference import (
    TINY_BUDGET,
    GraphList,
    components,
    dense_ppr,
    random_graph,
    synthetic_dataset,
    to_dense,
)
from torch_geometric.data import Data

from graphsampler.augment import diffusion
from graphsampler.augment.diffusion import add_diffusion, ppr_diffusion


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
