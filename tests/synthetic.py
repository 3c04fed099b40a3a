"""Tiny synthetic graphs shared by the tests."""
import torch
from torch_geometric.data import Data


def tiny_graphs(num_graphs: int = 40, num_features: int = 3, seed: int = 0) -> list[Data]:
    """Random small undirected graphs with two label-correlated shapes."""
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(num_graphs):
        n = int(torch.randint(3, 9, (1,), generator=gen))
        if i % 2:  # a cycle
            src = torch.arange(n)
            dst = (src + 1) % n
        else:  # a star
            src = torch.zeros(n - 1, dtype=torch.long)
            dst = torch.arange(1, n)
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        graphs.append(Data(x=torch.randn(n, num_features, generator=gen), edge_index=edge_index,
                           y=torch.tensor([i % 2])))
    return graphs
