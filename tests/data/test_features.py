import networkx as nx
import pytest
import torch
from torch_geometric.data import Batch, Data, InMemoryDataset

from graphsampler.data.features import collated_edge_index, constant_features, degree_one_hot


def _random_graph(num_nodes: int, p: float, seed: int) -> nx.Graph:
    graph = nx.gnp_random_graph(num_nodes, p, seed=seed)
    graph.add_edges_from([(0, v) for v in range(1, num_nodes, 2)])  # a hub with high degree
    graph.add_node(num_nodes)  # an isolated node
    return graph


def _edge_index(graph: nx.Graph) -> torch.Tensor:
    edges = [(u, v) for u, v in graph.edges()] + [(v, u) for u, v in graph.edges()]
    return torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)


def _one_hot_reference(degrees: list[int], max_degree: int) -> torch.Tensor:
    rows = []
    for d in degrees:
        row = [0.0] * (max_degree + 1)
        row[min(d, max_degree)] = 1.0
        rows.append(row)
    return torch.tensor(rows)


@pytest.mark.parametrize("max_degree", [1, 2, 3, 5, 50])
def test_degree_one_hot_matches_networkx(max_degree):
    graph = _random_graph(12, 0.3, seed=max_degree)
    degrees = [graph.degree[v] for v in range(graph.number_of_nodes())]
    assert max(degrees) > 3 and min(degrees) == 0  # the cap and the isolated node matter

    out = degree_one_hot(_edge_index(graph), graph.number_of_nodes(), max_degree)

    assert out.shape == (graph.number_of_nodes(), max_degree + 1)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, _one_hot_reference(degrees, max_degree))


def test_degree_one_hot_cap_shares_last_bucket():
    star = nx.star_graph(6)  # centre degree 6, leaves degree 1
    out = degree_one_hot(_edge_index(star), 7, max_degree=6)
    assert out[0].argmax() == 6
    capped = degree_one_hot(_edge_index(star), 7, max_degree=4)
    assert capped[0].argmax() == 4 and (capped[1:].argmax(dim=1) == 1).all()
    assert (capped.sum(dim=1) == 1).all()


def test_constant_features():
    out = constant_features(5, dtype=torch.float64)
    assert out.shape == (5, 1) and out.dtype == torch.float64
    assert (out == 1).all()
    assert constant_features(0).shape == (0, 1)


def test_collated_edge_index_matches_batch():
    graphs = [_random_graph(n, 0.4, seed=n) for n in (4, 1, 7)]
    data_list = [Data(edge_index=_edge_index(g), x=torch.zeros(g.number_of_nodes(), 1))
                 for g in graphs]
    data, slices = InMemoryDataset.collate(data_list)

    out = collated_edge_index(data.edge_index, slices["edge_index"], slices["x"])

    torch.testing.assert_close(out, Batch.from_data_list(data_list).edge_index)


def test_collated_degrees_match_per_graph_networkx():
    graphs = [_random_graph(n, 0.5, seed=10 + n) for n in (3, 6, 9)]
    data_list = [Data(edge_index=_edge_index(g), num_nodes=g.number_of_nodes()) for g in graphs]
    data, slices = InMemoryDataset.collate(data_list)
    node_slice = torch.tensor([0] + [g.number_of_nodes() for g in graphs]).cumsum(0)

    ei = collated_edge_index(data.edge_index, slices["edge_index"], node_slice)
    out = degree_one_hot(ei, int(node_slice[-1]), max_degree=3)

    degrees = [g.degree[v] for g in graphs for v in range(g.number_of_nodes())]
    torch.testing.assert_close(out, _one_hot_reference(degrees, 3))


def test_feature_errors():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"max_degree must be an int >= 1, got 0"):
        degree_one_hot(ei, 2, max_degree=0)
    with pytest.raises(ValueError, match=r"max_degree must be an int >= 1, got True"):
        degree_one_hot(ei, 2, max_degree=True)
    with pytest.raises(ValueError, match=r"edge_index must have shape \[2, E\], got \[4\]"):
        degree_one_hot(ei.flatten(), 2, max_degree=2)
    with pytest.raises(ValueError, match=r"refers to node 1 but num_nodes is 1"):
        degree_one_hot(ei, 1, max_degree=2)
    with pytest.raises(ValueError, match=r"num_nodes must be a non-negative int, got -1"):
        constant_features(-1)
    with pytest.raises(ValueError, match=r"edge_index must have shape \[2, E\], got \[3, 2\]"):
        collated_edge_index(torch.zeros(3, 2, dtype=torch.long), torch.tensor([0, 2]),
                            torch.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"must both have shape \[G \+ 1\], got \[2\] and \[3\]"):
        collated_edge_index(ei, torch.tensor([0, 2]), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"edge_slice ends at 1 but edge_index holds 2 edges"):
        collated_edge_index(ei, torch.tensor([0, 1]), torch.tensor([0, 2]))


@pytest.mark.cuda
def test_features_stay_on_input_device():
    star = nx.star_graph(3)
    ei = _edge_index(star).cuda()
    out = degree_one_hot(collated_edge_index(ei, torch.tensor([0, 6]), torch.tensor([0, 4])),
                         4, max_degree=2)
    assert out.device == ei.device
    torch.testing.assert_close(out.cpu(), _one_hot_reference([3, 1, 1, 1], 2))
