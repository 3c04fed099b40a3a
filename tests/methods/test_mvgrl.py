import pytest
import torch
from torch_geometric.data import Batch

from graphsampler.augment.diffusion import ppr_diffusion
from graphsampler.methods.mvgrl import MVGRL
from synthetic import tiny_graphs

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
