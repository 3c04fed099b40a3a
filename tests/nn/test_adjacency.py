import pytest
import torch

from graphsampler.nn.adjacency import _REDUCE_KERNEL_MIN_COLUMNS, Adjacency


def dense(edge_index: torch.Tensor, num_nodes: int, weight=None) -> torch.Tensor:
    """M[i, j] = total weight of the edges j -> i, written with a dense matrix."""
    m = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    w = torch.ones(edge_index.size(1), dtype=torch.float64) if weight is None else weight.double()
    m.index_put_((edge_index[1], edge_index[0]), w, accumulate=True)
    return m


def random_edges(num_nodes: int, num_edges: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(num_nodes, (2, num_edges), generator=gen)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("columns", [5, _REDUCE_KERNEL_MIN_COLUMNS])  # both CPU kernels
def test_product_and_gradient_match_dense_matrix(weighted, seed, columns):
    # unsorted, directed, with repeated edges and self-loops, isolated nodes
    edge_index = random_edges(12, 40, seed)
    gen = torch.Generator().manual_seed(seed + 100)
    weight = torch.rand(40, generator=gen, dtype=torch.float64) if weighted else None
    x = torch.randn(13, columns, generator=gen, dtype=torch.float64, requires_grad=True)
    adj = Adjacency(edge_index, 13, weight)
    out = adj(x)
    expected = dense(edge_index, 13, weight) @ x
    torch.testing.assert_close(out, expected)
    grad = torch.randn(13, columns, generator=gen, dtype=torch.float64)
    (g_ours,) = torch.autograd.grad(out, x, grad)
    (g_dense,) = torch.autograd.grad(expected, x, grad)
    torch.testing.assert_close(g_ours, g_dense)
    assert torch.autograd.gradcheck(lambda t: Adjacency(edge_index, 13, weight)(t), (x,),
                                    fast_mode=columns > 5)  # the wide one: seconds


def test_sorted_and_shuffled_edges_agree_and_float32():
    edge_index = random_edges(20, 100, 3)
    edge_index = edge_index[:, torch.argsort(edge_index[0])]          # PyG order
    shuffled = edge_index[:, torch.randperm(100, generator=torch.Generator().manual_seed(0))]
    x = torch.randn(20, 4)
    torch.testing.assert_close(Adjacency(edge_index, 20)(x), Adjacency(shuffled, 20)(x))
    torch.testing.assert_close(Adjacency(edge_index, 20)(x),
                               (dense(edge_index, 20) @ x.double()).float())


def test_matrices_are_built_once_and_backward_one_lazily():
    edge_index = random_edges(6, 15, 4)
    adj = Adjacency(edge_index, 6)
    x = torch.randn(6, 3, requires_grad=True)
    adj(x)
    assert list(adj._matrices) == [(False, torch.float32)]
    first = adj._matrices[(False, torch.float32)]
    adj(adj(x)).sum().backward()
    assert set(adj._matrices) == {(False, torch.float32), (True, torch.float32)}
    assert adj._matrices[(False, torch.float32)] is first


def test_no_edges_and_no_nodes():
    empty = torch.empty(2, 0, dtype=torch.long)
    x = torch.randn(3, 2, requires_grad=True)
    out = Adjacency(empty, 3)(x)
    assert torch.equal(out, torch.zeros(3, 2))
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros(3, 2))
    assert Adjacency(empty, 0)(torch.randn(0, 2)).shape == (0, 2)


def test_bad_input_messages():
    edge_index = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"edge_index must be an int64 tensor of shape"):
        Adjacency(edge_index.float(), 3)
    with pytest.raises(ValueError, match=r"num_nodes must be a non-negative int, got -1"):
        Adjacency(edge_index, -1)
    with pytest.raises(ValueError, match=r"node ids in \[0, 2\] but they must lie in "
                                         r"\[0, num_nodes\) = \[0, 2\)"):
        Adjacency(edge_index, 2)
    with pytest.raises(ValueError, match=r"node ids in \[-1, 2\]"):
        Adjacency(torch.tensor([[0, -1], [1, 2]]), 3)
    with pytest.raises(ValueError, match=r"edge_weight must be a floating-point tensor "
                                         r"of shape \[2\]"):
        Adjacency(edge_index, 3, torch.ones(3))
    with pytest.raises(ValueError, match=r"edge_weight must not require grad"):
        Adjacency(edge_index, 3, torch.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match=r"x must have shape \[3, F\] \(num_nodes rows\), "
                                         r"got \(2, 4\)"):
        Adjacency(edge_index, 3)(torch.randn(2, 4))


@pytest.mark.cuda
def test_cuda_matches_cpu():
    edge_index = random_edges(50, 300, 5)
    x = torch.randn(50, 8, requires_grad=True)
    out = Adjacency(edge_index, 50)(x)
    xc = x.detach().cuda().requires_grad_()
    out_c = Adjacency(edge_index.cuda(), 50)(xc)
    torch.testing.assert_close(out_c.cpu(), out)
    out.sum().backward()
    out_c.sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), x.grad)


def test_bfloat16_input_is_summed_in_float32_even_under_autocast():
    # CSR products have no bfloat16 kernel on the CPU, and autocast would cast to it
    edge_index = random_edges(12, 40, 3)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(12, 5, generator=gen).bfloat16().requires_grad_()
    adj = Adjacency(edge_index, 12)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = adj(x)
    assert out.dtype == torch.float32
    expected = dense(edge_index, 12) @ x.detach().double()
    assert torch.allclose(out.double(), expected, atol=1e-5)
    grad = torch.randn(12, 5, generator=gen)
    out.backward(grad)
    assert x.grad.dtype == torch.bfloat16
    expected_grad = (dense(edge_index, 12).t() @ grad.double()).bfloat16()
    assert torch.equal(x.grad, expected_grad)
