import pytest
import torch

from graphsampler.nn.readout import sum_readout


def loop_sums(x: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
    """The oracle: one Python sum per graph, in float64."""
    out = torch.zeros(num_graphs, x.size(1), dtype=torch.float64)
    for v in range(x.size(0)):
        out[batch[v]] += x[v].double()
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_sums_and_gradient_match_a_loop(seed):
    gen = torch.Generator().manual_seed(seed)
    batch = torch.randint(4, (30,), generator=gen)  # unsorted; graph ids may be missing
    x = torch.randn(30, 6, generator=gen, dtype=torch.float64, requires_grad=True)
    out = sum_readout(x, batch, num_graphs=6)  # graphs 4 and 5 have no nodes
    assert out.shape == (6, 6)
    assert torch.allclose(out, loop_sums(x.detach(), batch, 6))
    assert torch.equal(out[4:], torch.zeros(2, 6, dtype=torch.float64))
    grad = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    out.backward(grad)
    assert torch.equal(x.grad, grad[batch])  # each node receives its graph's gradient


def test_num_graphs_defaults_to_the_largest_id_plus_one():
    x = torch.ones(3, 2)
    assert sum_readout(x, torch.tensor([0, 2, 2])).tolist() == [[1, 1], [0, 0], [2, 2]]
    assert sum_readout(torch.ones(0, 2), torch.zeros(0, dtype=torch.long)).shape == (0, 2)


def test_bfloat16_nodes_are_summed_in_float32():
    # 4,000 nodes of 1.0 + 2^-7: 4031.25, which bfloat16 rounds to 4032
    x = torch.full((4000, 1), 1.0 + 2**-7, dtype=torch.bfloat16, requires_grad=True)
    batch = torch.zeros(4000, dtype=torch.long)
    out = sum_readout(x, batch, 1)
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(4000 * (1.0 + 2**-7), rel=1e-6)
    out.sum().backward()
    assert x.grad.dtype == torch.bfloat16
