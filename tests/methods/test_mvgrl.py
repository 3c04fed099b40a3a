import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import Batch

from graphsampler.augment.diffusion import ppr_diffusion
from graphsampler.methods.mvgrl import MVGRL

torch.set_num_threads(1)  # faster here than two threads contending for BLAS


def with_diffusion(graphs):
    for g in graphs:
        g.diff_edge_index, g.diff_edge_weight = ppr_diffusion(g.edge_index, g.num_nodes, k=4)
    return Batch.from_data_list(graphs)


def test_training_step_contrasts_local_and_global_across_views():
    torch.manual_seed(0)
    batch = with_diffusion(tiny_graphs(6))
    model = MVGRL(3, hidden_channels=16, num_layers=2)
    loss, z = model.training_step(batch)
    assert loss.dim() == 0 and torch.isfinite(loss) and z.shape == (6, 16)
    l1, l2, g1, g2 = model._views(batch)
    from graphsampler.losses.jsd import local_global_jsd
    expected = local_global_jsd(l1, g2, batch.batch) + local_global_jsd(l2, g1, batch.batch)
    assert torch.allclose(loss, expected) and torch.allclose(z, g1 + g2)
    assert torch.allclose(model.embed(batch), g1 + g2)


def test_both_encoders_train():
    torch.manual_seed(0)
    batch = with_diffusion(tiny_graphs(8))
    model = MVGRL(3, hidden_channels=8, num_layers=2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    loss, _ = model.training_step(batch)
    loss.backward()
    opt.step()
    for name in ("adjacency", "diffusion"):
        assert any(not torch.equal(before[k], v) for k, v in model.named_parameters()
                   if k.startswith(name + "."))


def test_missing_diffusion_view_is_a_clear_error():
    model = MVGRL(3, hidden_channels=8, num_layers=1)
    with pytest.raises(ValueError, match="load_mvgrl_dataset"):
        model.training_step(Batch.from_data_list(tiny_graphs(4)))


def dense_reference_loss(model: MVGRL, batch) -> torch.Tensor:
    """MVGRL's loss written independently of graphsampler.nn and losses: dense
    propagation matrices, F.prelu, a one-hot pooling matrix and the JSD with masks."""
    n, num_graphs = batch.num_nodes, batch.num_graphs
    dtype = batch.x.dtype
    adjacency = torch.eye(n, dtype=dtype)
    adjacency[batch.edge_index[1], batch.edge_index[0]] = 1.0  # target by source, + I
    d = adjacency.sum(1).rsqrt()
    adjacency = d[:, None] * adjacency * d[None, :]
    diffusion = torch.zeros(n, n, dtype=dtype)
    diffusion[batch.diff_edge_index[1], batch.diff_edge_index[0]] = batch.diff_edge_weight
    positive = torch.nn.functional.one_hot(batch.batch, num_graphs).to(dtype)  # [N, B]

    def encode(encoder, propagation):
        h, pooled = batch.x, []
        for conv, act in zip(encoder.convs, encoder.acts):
            h = torch.nn.functional.prelu(
                propagation @ h @ conv.lin.weight.t() + conv.bias, act.weight)
            pooled.append(positive.t() @ h)
        return h, torch.cat(pooled, dim=1)

    def head(module, x):
        h = x
        for i in (0, 2, 4):
            h = torch.nn.functional.prelu(module.mlp[i](h), module.mlp[i + 1].weight)
        return h + module.shortcut(x)

    def jsd(local, global_):
        scores = local @ global_.t()
        log2 = torch.log(torch.tensor(2.0, dtype=dtype))
        sp = torch.nn.functional.softplus(-scores)
        e_pos = ((log2 - sp) * positive).sum() / n
        e_neg = ((sp + scores - log2) * (1 - positive)).sum() / (n * (num_graphs - 1))
        return e_neg - e_pos

    l1, g1 = encode(model.adjacency, adjacency)
    l2, g2 = encode(model.diffusion, diffusion)
    l1, l2 = head(model.local_head, l1), head(model.local_head, l2)
    g1, g2 = head(model.global_head, g1), head(model.global_head, g2)
    return jsd(l1, g2) + jsd(l2, g1)


@pytest.mark.parametrize("hidden", [16, 64])  # both CPU kernels of the neighbour sums
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_loss_and_every_gradient_match_a_dense_reference(hidden, dtype):
    torch.manual_seed(0)
    batch = with_diffusion(tiny_graphs(6))
    batch.x, batch.diff_edge_weight = batch.x.to(dtype), batch.diff_edge_weight.to(dtype)
    model = MVGRL(3, hidden_channels=hidden, num_layers=3).to(dtype)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # nonzero biases, slopes of both signs: all of it checked
        for name, param in model.named_parameters():
            scale = 1.0 if param.numel() == 1 else 0.3 / param.size(-1) ** 0.5
            param.add_(torch.randn(param.shape, generator=gen, dtype=dtype) * scale)
    loss, _ = model.training_step(batch)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    expected = dense_reference_loss(model, batch)
    expected_grads = torch.autograd.grad(expected, list(model.parameters()))
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {}
    torch.testing.assert_close(loss, expected, **tol)
    for (name, _), ours, ref in zip(model.named_parameters(), grads, expected_grads):
        torch.testing.assert_close(ours, ref, **tol, msg=lambda m: f"{name}: {m}")


def test_bfloat16_step_stays_near_float32():
    torch.manual_seed(0)
    batch = with_diffusion(tiny_graphs(6))
    model = MVGRL(3, hidden_channels=64, num_layers=2)
    loss, z = model.training_step(batch)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss_bf16, z_bf16 = model.training_step(batch)
    grads_bf16 = torch.autograd.grad(loss_bf16, list(model.parameters()))
    assert loss_bf16.dtype == torch.float32
    torch.testing.assert_close(loss_bf16, loss, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(z_bf16.float(), z, rtol=5e-2, atol=5e-2)
    for ours, ref in zip(grads_bf16, grads):
        assert ours.dtype == torch.float32
        cosine = torch.nn.functional.cosine_similarity(ours.flatten(), ref.flatten(), dim=0)
        assert cosine > 0.98  # the bfloat16 products round (the worst one here: 0.986)
