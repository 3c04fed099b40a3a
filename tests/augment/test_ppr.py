import pytest
import torch

from graphsampler.augment import ppr_diffusion_graphs
from graphsampler.augment.diffusion import ppr_diffusion


def random_graphs(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    edges = []
    for n in sizes:
        m = int(torch.randint(0, 3 * n, (1,), generator=gen))
        edges.append(torch.randint(0, n, (2, m), generator=gen))
    return edges


@pytest.mark.parametrize("sparsify", ["topk", "threshold"])
@pytest.mark.parametrize("budget", [64 * 2**20, 2_000])  # chunks of many graphs, or one
def test_many_graphs_equal_each_graph_alone(sparsify, budget):
    sizes = [5, 1, 5, 9, 2, 5, 9]  # equal sizes share a chunk
    edges = random_graphs(sizes)
    index, weight, ptr = ppr_diffusion_graphs(
        torch.cat(edges, dim=1), torch.tensor([0] + [e.size(1) for e in edges]).cumsum(0),
        torch.tensor(sizes), alpha=0.15, sparsify=sparsify, k=3, eps=0.05,
        memory_budget=budget)
    assert ptr.tolist()[0] == 0 and ptr.tolist()[-1] == weight.numel() == index.size(1)
    for g, (n, e) in enumerate(zip(sizes, edges)):
        alone_index, alone_weight = ppr_diffusion(e, n, alpha=0.15, sparsify=sparsify, k=3,
                                                  eps=0.05)
        assert torch.equal(index[:, ptr[g]:ptr[g + 1]], alone_index)
        torch.testing.assert_close(weight[ptr[g]:ptr[g + 1]], alone_weight, rtol=0, atol=0)


def test_docstring_example():
    path, ring = torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0, 1, 2], [1, 2, 0]])
    _, _, ptr = ppr_diffusion_graphs(torch.cat([path, ring], dim=1), torch.tensor([0, 2, 5]),
                                     torch.tensor([3, 3]), k=2)
    assert ptr.tolist() == [0, 6, 12]


def test_errors():
    edges, ptr, sizes = torch.tensor([[0, 1, 0], [1, 0, 2]]), torch.tensor([0, 2, 3]), \
        torch.tensor([2, 3])
    with pytest.raises(ValueError, match=r"^edge_index must be an int64 tensor of shape "
                                         r"\[2, num_edges\]"):
        ppr_diffusion_graphs(edges.float(), ptr, sizes)
    with pytest.raises(ValueError, match="^num_nodes must be a 1-D int64 tensor of node "
                                         "counts >= 1, one per graph"):
        ppr_diffusion_graphs(edges, ptr, torch.tensor([2, 0]))
    for bad in (torch.tensor([0, 3]), torch.tensor([1, 2, 3]), torch.tensor([0, 2, 4]),
                torch.tensor([0, 3, 2])):
        with pytest.raises(ValueError, match=r"^edge_ptr must be an int64 tensor of shape "
                                             r"\[3\] rising from 0 to the number of edges"):
            ppr_diffusion_graphs(edges, bad, sizes)
    with pytest.raises(ValueError, match=r"^edge_index holds node indices outside \[0, 2\) "
                                         r"\(graph 0\); pass the graph's num_nodes"):
        ppr_diffusion_graphs(torch.tensor([[0, 2, 0], [1, 0, 2]]), ptr, sizes)
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(graph 1\)"):
        ppr_diffusion_graphs(torch.tensor([[0, 1, -1], [1, 0, 2]]), ptr, sizes)
    with pytest.raises(ValueError, match=r"^k \(entries kept per row\) must be a positive"):
        ppr_diffusion_graphs(edges, ptr, sizes, k=0)
