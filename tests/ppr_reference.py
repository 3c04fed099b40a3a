"""Dense references for the PPR diffusion tests (tests/augment/test_diffusion.py and
test_add_diffusion.py): MVGRL's formula with a numpy inverse, and random graphs."""
import networkx as nx
import numpy as np
import torch
from torch_geometric.data import Data, InMemoryDataset

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
