import math
from collections import Counter
from functools import cache

import networkx as nx
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.utils import erdos_renyi_graph, to_undirected

from graphsampler.augment.subgraph import Subgraph


def connected_graph(n: int) -> Data:
    """A random connected undirected graph: a random tree plus Erdos-Renyi edges;
    x[:, 0] holds the node's index."""
    parents = [int(torch.randint(0, i, ())) for i in range(1, n)]
    tree = torch.tensor([parents, list(range(1, n))], dtype=torch.long).view(2, -1)
    edge_index = to_undirected(torch.cat([tree, erdos_renyi_graph(n, 0.1)], dim=1), num_nodes=n)
    return Data(x=torch.stack([torch.arange(n, dtype=torch.float), torch.randn(n)], dim=1),
                edge_index=edge_index, num_nodes=n)


def kept_nodes(original: Data, augmented: Data) -> list[int]:
    return augmented.x[:, 0].long().tolist()


@pytest.mark.parametrize("keep_ratio", [0.2, 0.5, 0.0])
def test_connected_graphs_give_connected_views_of_the_target_size(keep_ratio):
    torch.manual_seed(0)
    graphs = [connected_graph(n) for n in (1, 2, 4, 9, 10, 11, 23, 40)]
    batch = Batch.from_data_list(graphs)
    view = Subgraph(keep_ratio)(batch, torch.Generator().manual_seed(1))
    assert view.num_graphs == batch.num_graphs
    assert torch.equal(view.batch, torch.arange(8).repeat_interleave(view.ptr.diff()))
    for original, augmented in zip(graphs, view.to_data_list()):
        n = original.num_nodes
        kept = kept_nodes(original, augmented)
        assert len(kept) == int(n * keep_ratio) + 1  # GraphCL keeps int(0.2 * n) + 1
        assert kept == sorted(set(kept))
        reference = original.subgraph(torch.tensor(kept))
        assert torch.equal(augmented.edge_index, reference.edge_index)
        assert torch.equal(augmented.x, reference.x)
        g = nx.Graph()
        g.add_nodes_from(range(len(kept)))
        g.add_edges_from(augmented.edge_index.t().tolist())
        assert nx.is_connected(g)


def growth_distribution(edges: list[tuple[int, int]], n: int, target: int) -> dict:
    """Exact probability of each final node set: a uniform start node, then one node at a
    time drawn uniformly from the out-neighbours of the set that are not in it yet."""
    out = {v: {b for a, b in edges if a == v} for v in range(n)}

    @cache
    def finals(kept: frozenset) -> tuple:
        frontier = sorted(set().union(*(out[v] for v in kept)) - kept)
        if len(kept) == target or not frontier:
            return ((kept, 1.0),)
        result = Counter()
        for v in frontier:
            for final, p in finals(kept | {v}):
                result[final] += p / len(frontier)
        return tuple(result.items())

    total = Counter()
    for start in range(n):
        for final, p in finals(frozenset([start])):
            total[final] += p / n
    return total


def test_matches_exact_distribution_of_the_growth_process():
    # A small tree with a triangle: 0-1, 1-2, 2-3, 1-4, 4-5, 3-1; keep 4 of 6 nodes.
    undirected = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (3, 1)]
    edges = undirected + [(b, a) for a, b in undirected]
    graph = Data(x=torch.arange(6.0).view(-1, 1), edge_index=torch.tensor(edges).t())
    copies = 4000
    batch = Batch.from_data_list([graph] * copies)
    view = Subgraph(0.5)(batch, torch.Generator().manual_seed(0))
    ids = view.x[:, 0].long().tolist()
    ptr = view.ptr.tolist()
    counts = Counter(frozenset(ids[ptr[g]:ptr[g + 1]]) for g in range(copies))
    exact = growth_distribution(edges, 6, 4)
    assert set(counts) <= set(exact)
    for final, p in exact.items():
        # sd of each frequency is at most 0.008
        assert counts[final] / copies == pytest.approx(p, abs=0.03), sorted(final)
    assert len(exact) > 6  # grows past the start's neighbourhood (Shen-Lab/GraphCL#24)


def test_follows_edge_direction_and_stops_at_small_components():
    chain = torch.tensor([list(range(9)), list(range(1, 10))])  # directed 0 -> 1 -> ... -> 9
    two_parts = to_undirected(torch.tensor([[0, 2, 3, 4, 5, 6, 7, 8], [1, 3, 4, 5, 6, 7, 8, 9]]))
    no_edges = torch.empty(2, 0, dtype=torch.long)
    x = torch.arange(10.0).view(-1, 1)
    graphs = ([Data(x=x, edge_index=chain)] * 50 + [Data(x=x, edge_index=two_parts)] * 50
              + [Data(x=x, edge_index=no_edges)])
    view = Subgraph(0.5)(Batch.from_data_list(graphs), torch.Generator().manual_seed(2))
    for g, data in enumerate(view.to_data_list()):
        kept = data.x[:, 0].long().tolist()
        if g < 50:  # starting at s, only s..9 are reachable
            s = kept[0]
            assert kept == list(range(s, s + min(6, 10 - s)))
        elif g < 100:  # the component {0, 1} is smaller than the target 6
            assert kept == [0, 1] or (len(kept) == 6 and min(kept) >= 2)
        else:  # no edges: the start node alone
            assert len(kept) == 1


@pytest.mark.parametrize("max_steps", [1, 3])
def test_step_budget_adds_several_frontier_nodes_per_step(max_steps):
    torch.manual_seed(4)
    path = torch.tensor([list(range(39)), list(range(1, 40))])
    graphs = [connected_graph(60), connected_graph(45),
              Data(x=torch.arange(40.0).view(-1, 1).expand(-1, 2), edge_index=to_undirected(path),
                   num_nodes=40)]
    view = Subgraph(0.5, max_steps=max_steps)(Batch.from_data_list(graphs),
                                              torch.Generator().manual_seed(0))
    for original, augmented in zip(graphs, view.to_data_list()):
        kept = kept_nodes(original, augmented)
        # The path's frontier holds at most 2 nodes, so it needs more than max_steps steps.
        assert len(kept) == int(original.num_nodes * 0.5) + 1
        reference = original.subgraph(torch.tensor(kept))
        assert torch.equal(augmented.edge_index, reference.edge_index)
        assert nx.is_connected(nx.Graph(augmented.edge_index.t().tolist()))


def test_graph_mask_reproducibility_and_input_untouched():
    torch.manual_seed(3)
    graphs = [connected_graph(n) for n in (12, 20, 7, 30)]
    batch = Batch.from_data_list(graphs)
    x, edge_index = batch.x.clone(), batch.edge_index.clone()
    mask = torch.tensor([True, False, True, False])
    aug = Subgraph()
    first = aug(batch, torch.Generator().manual_seed(5), graph_mask=mask)
    second = aug(batch, torch.Generator().manual_seed(5), graph_mask=mask)
    assert torch.equal(first.x, second.x) and torch.equal(first.edge_index, second.edge_index)
    assert first.ptr.diff().tolist() == [3, 20, 2, 30]
    assert torch.equal(first[1].edge_index, graphs[1].edge_index)
    assert torch.equal(batch.x, x) and torch.equal(batch.edge_index, edge_index)


@pytest.mark.parametrize("keep_ratio", [1.0, -0.2, math.nan])
def test_rejects_bad_keep_ratio(keep_ratio):
    with pytest.raises(ValueError, match=r"keep_ratio must be a number in \[0, 1\) \(the "
                                         r"fraction of nodes the subgraph keeps\)"):
        Subgraph(keep_ratio)


@pytest.mark.parametrize("max_steps", [0, 2.5, True])
def test_rejects_bad_step_budget(max_steps):
    with pytest.raises(ValueError, match=r"max_steps must be an int >= 1 \(the step budget "
                                         r"of the expansion\), got"):
        Subgraph(0.2, max_steps=max_steps)


@pytest.mark.cuda
def test_cuda_views_have_the_target_size():
    torch.manual_seed(0)
    graphs = [connected_graph(n) for n in (3, 10, 25, 60)]
    batch = Batch.from_data_list(graphs).to("cuda")
    view = Subgraph(0.2)(batch, torch.Generator(device="cuda").manual_seed(0))
    assert view.x.is_cuda
    assert view.ptr.diff().tolist() == [int(0.2 * n) + 1 for n in (3, 10, 25, 60)]
