import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import Batch

from graphsampler.methods.graphcl import GraphCL

torch.set_num_threads(1)  # faster here than two threads contending for BLAS


def test_training_step_returns_loss_and_first_view_projections():
    torch.manual_seed(0)
    batch = Batch.from_data_list(tiny_graphs(8))
    model = GraphCL(3)
    loss, z = model.training_step(batch, torch.Generator().manual_seed(0))
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert z.shape == (8, 96)
    # the first view is the graph itself: z are the projections of the plain graphs
    assert torch.allclose(z, model.head(model.encoder(batch.x, batch.edge_index, batch.batch, 8)))
    loss.backward()
    assert all(p.grad is not None for p in model.encoder.parameters())


@pytest.mark.parametrize("loss", ["infonce", "dcl", "hcl"])
def test_every_loss_trains(loss):
    torch.manual_seed(0)
    batch = Batch.from_data_list(tiny_graphs(16))
    model = GraphCL(3, loss)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    before = [p.detach().clone() for p in model.encoder.parameters()]
    value, _ = model.training_step(batch)
    value.backward()
    opt.step()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.encoder.parameters()))


def test_embed_is_the_encoder_output_in_eval_mode():
    model = GraphCL(3).eval()
    batch = Batch.from_data_list(tiny_graphs(5))
    emb = model.embed(batch)
    assert emb.shape == (5, 96) and not emb.requires_grad
    assert torch.equal(emb, model.embed(batch))  # deterministic: no augmentation


def test_errors():
    with pytest.raises(ValueError, match=r"unknown loss 'jsd' for GraphCL; "
                                         r"choose one of \['dcl', 'hcl', 'infonce'\]"):
        GraphCL(3, "jsd")
    with pytest.raises(ValueError, match="random9"):
        GraphCL(3, augmentation="random9")


@pytest.mark.parametrize("bank", ["projection", "both", "encoder"])
def test_bank_content(bank):
    torch.manual_seed(0)
    batch = Batch.from_data_list(tiny_graphs(8))
    model = GraphCL(3, bank=bank)
    loss, z = model.training_step(batch, torch.Generator().manual_seed(0))
    h1 = model.encoder(batch.x, batch.edge_index, batch.batch, 8)
    view = model.second_view(batch, torch.Generator().manual_seed(0))
    z2 = model.head(model.encoder(view.x, view.edge_index, view.batch, 8))
    expected = {"projection": model.head(h1), "encoder": h1,
                "both": torch.cat([torch.nn.functional.normalize(model.head(h1), dim=1),
                                   torch.nn.functional.normalize(z2, dim=1)], dim=1)}[bank]
    assert torch.allclose(z, expected, atol=1e-6)
    assert torch.allclose(loss, model.loss(model.head(h1), z2), atol=1e-6)


def test_bank_error():
    with pytest.raises(ValueError, match="bank must be one of projection, both, encoder, "
                                         "got 'views'"):
        GraphCL(3, bank="views")
