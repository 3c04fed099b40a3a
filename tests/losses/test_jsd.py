import math

import pytest
import torch
import torch.nn.functional as F

from graphsampler.losses.jsd import local_global_jsd

LOG2 = math.log(2.0)


def reference_jsd(local, global_, batch) -> float:
    """The formula, one (node, graph) pair at a time, in float64."""
    num_nodes, num_graphs = local.size(0), global_.size(0)
    pos = neg = 0.0
    for v in range(num_nodes):
        for g in range(num_graphs):
            s = float(local[v].double() @ global_[g].double())
            softplus = math.log1p(math.exp(-s)) if s > -30 else -s
            if int(batch[v]) == g:
                pos += LOG2 - softplus
            else:
                neg += softplus + s - LOG2
    return neg / (num_nodes * (num_graphs - 1)) - pos / num_nodes


def original_masked_jsd(l_enc, g_enc, batch):
    """MVGRL's local_global_loss_ as written: masks filled in a loop and multiplied
    into the scores *before* the expectations (zeros contribute 0 under JSD)."""
    num_graphs, num_nodes = g_enc.shape[0], l_enc.shape[0]
    pos_mask = torch.zeros((num_nodes, num_graphs), dtype=l_enc.dtype)
    neg_mask = torch.ones((num_nodes, num_graphs), dtype=l_enc.dtype)
    for nodeidx, graphidx in enumerate(batch):
        pos_mask[nodeidx][graphidx] = 1.0
        neg_mask[nodeidx][graphidx] = 0.0
    res = torch.mm(l_enc, g_enc.t())
    e_pos = (LOG2 - F.softplus(-(res * pos_mask))).sum() / num_nodes
    q = res * neg_mask
    e_neg = (F.softplus(-q) + q - LOG2).sum() / (num_nodes * (num_graphs - 1))
    return e_neg - e_pos


def random_batch(sizes, dim, seed, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    batch = torch.arange(len(sizes)).repeat_interleave(torch.tensor(sizes))
    local = torch.randn(int(batch.numel()), dim, generator=gen, dtype=dtype)
    global_ = torch.randn(len(sizes), dim, generator=gen, dtype=dtype)
    return local, global_, batch


@pytest.mark.parametrize("sizes", [[1, 1], [3, 5], [4, 1, 6, 2], [2, 0, 3]])
@pytest.mark.parametrize("dim", [1, 8])
def test_matches_loop_reference_and_original(sizes, dim):
    local, global_, batch = random_batch(sizes, dim, seed=sum(sizes) + dim)
    loss = local_global_jsd(local, global_, batch)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(reference_jsd(local, global_, batch),
                                        rel=1e-10, abs=1e-12)
    assert loss.item() == pytest.approx(
        original_masked_jsd(local, global_, batch).item(), rel=1e-10, abs=1e-12)


def test_nodes_in_any_order():
    local, global_, batch = random_batch([3, 4, 2], 5, seed=3)
    perm = torch.randperm(batch.numel(), generator=torch.Generator().manual_seed(0))
    assert local_global_jsd(local[perm], global_, batch[perm]).item() == pytest.approx(
        local_global_jsd(local, global_, batch).item(), rel=1e-12)


def test_float32_matches_reference():
    local, global_, batch = random_batch([10, 7, 12], 16, seed=4, dtype=torch.float32)
    loss = local_global_jsd(local, global_, batch)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(reference_jsd(local, global_, batch), rel=1e-5)


def test_known_values():
    _, global_, batch = random_batch([2, 3, 1], 4, seed=5)
    zeros = torch.zeros(6, 4, dtype=torch.float64)
    assert local_global_jsd(zeros, global_, batch).item() == pytest.approx(0.0, abs=1e-15)
    # Positives score +s, negatives -s: 2 log(1 + e^-s) - 2 log 2, which tends to the
    # minimum -2 log 2 as the views separate.
    for c in (0.5, 1.0, 2.0, 3.0):
        local = c * F.one_hot(batch, 3).double()
        separated = c * (2 * torch.eye(3, dtype=torch.float64) - 1)
        loss = local_global_jsd(local, separated, batch).item()
        assert loss == pytest.approx(2 * math.log1p(math.exp(-c * c)) - 2 * LOG2,
                                     rel=1e-12)
        assert loss > -2 * LOG2


def test_gradcheck():
    local, global_, batch = random_batch([2, 3, 1], 4, seed=6)
    local.requires_grad_()
    global_.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: local_global_jsd(a, b, batch), (local, global_))


def test_errors():
    local, global_, batch = random_batch([2, 3], 4, seed=7)
    with pytest.raises(ValueError, match="batch must be a 1-D int64 tensor with one "
                                         r"entry per node \(5\)"):
        local_global_jsd(local, global_, batch[:-1])
    with pytest.raises(ValueError, match="batch must be a 1-D int64"):
        local_global_jsd(local, global_, batch.int())
    with pytest.raises(ValueError, match="at least 2 graphs"):
        local_global_jsd(local, global_[:1], torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="same feature size, got 4 and 3"):
        local_global_jsd(local, global_[:, :3], batch)
    with pytest.raises(ValueError, match="must share dtype and device"):
        local_global_jsd(local, global_.float(), batch)
    with pytest.raises(ValueError, match="local must be a 2-D floating-point tensor"):
        local_global_jsd(local[0], global_, batch)
    with pytest.raises(ValueError, match="global_ must be a 2-D floating-point tensor"):
        local_global_jsd(local, global_.long(), batch)
    with pytest.raises(ValueError, match="at least one node"):
        local_global_jsd(local[:0], global_, batch[:0])
    with pytest.raises(ValueError, match=r"graph indices in \[0, 2\)"):
        local_global_jsd(local, global_, torch.tensor([0, 0, 1, 1, 2]))
    with pytest.raises(ValueError, match=r"graph indices in \[0, 2\)"):
        local_global_jsd(local, global_, torch.tensor([0, -1, 1, 1, 1]))


@pytest.mark.cuda
def test_cuda_matches_cpu():
    local, global_, batch = random_batch([3, 4, 2], 6, seed=8)
    loss = local_global_jsd(local.cuda(), global_.cuda(), batch.cuda())
    assert loss.is_cuda
    assert loss.item() == pytest.approx(local_global_jsd(local, global_, batch).item(),
                                        rel=1e-10)
