import math

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphsampler.nn.gin import GINEncoder
from graphsampler.nn.heads import ProjectionHead


def graph(num_nodes: int, edges: list[tuple[int, int]], seed: int,
          num_features: int = 4) -> Data:
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.tensor(edges, dtype=torch.long).reshape(-1, 2).t()
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)  # undirected
    return Data(x=torch.randn(num_nodes, num_features, generator=gen),
                edge_index=edge_index)


def toy_batch() -> Batch:
    return Batch.from_data_list([
        graph(4, [(0, 1), (1, 2), (2, 3)], seed=0),        # path
        graph(3, [], seed=1),                               # no edges
        graph(1, [], seed=2),                               # single node
        graph(5, [(0, 1), (1, 2), (2, 0), (3, 4)], seed=3),  # triangle + edge
    ])


def dense_node_embeddings(encoder: GINEncoder, x: torch.Tensor,
                          edge_index: torch.Tensor) -> torch.Tensor:
    """GIN written with a dense adjacency matrix: h' = BN(ReLU(MLP(h + A h))), BN with
    running statistics (eval) or the biased batch statistics (training)."""
    adj = torch.zeros(x.size(0), x.size(0))
    adj.index_put_((edge_index[1], edge_index[0]), torch.tensor(1.0), accumulate=True)
    h, layers = x, []
    for conv, norm in zip(encoder.convs, encoder.norms):
        lin1, lin2 = conv.nn[0], conv.nn[2]
        a = h + adj @ h
        a = (a @ lin1.weight.t() + lin1.bias).clamp(min=0) @ lin2.weight.t() + lin2.bias
        a = a.clamp(min=0)
        if encoder.training:
            mean, var = a.mean(0), a.var(0, unbiased=False)
        else:
            mean, var = norm.running_mean, norm.running_var
        h = (a - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias
        layers.append(h)
    return torch.cat(layers, dim=1)


def trained_norms(encoder: GINEncoder) -> GINEncoder:
    """Non-trivial BatchNorm affine parameters and running statistics."""
    gen = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for norm in encoder.norms:
            norm.weight.copy_(torch.rand(norm.num_features, generator=gen) + 0.5)
            norm.bias.copy_(torch.randn(norm.num_features, generator=gen))
            norm.running_mean.copy_(torch.randn(norm.num_features, generator=gen))
            norm.running_var.copy_(torch.rand(norm.num_features, generator=gen) + 0.5)
    return encoder


def test_output_shape_and_out_channels():
    batch = toy_batch()
    encoder = GINEncoder(4)
    out = encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    assert encoder.out_channels == 96
    assert out.shape == (4, 96)
    custom = GINEncoder(4, hidden_channels=8, num_layers=5)
    assert custom.out_channels == 40
    assert custom(batch.x, batch.edge_index, batch.batch).shape == (4, 40)


@pytest.mark.parametrize("training", [False, True])
def test_node_embeddings_match_dense_gin(training):
    torch.manual_seed(0)
    batch = toy_batch()
    encoder = trained_norms(GINEncoder(4, hidden_channels=6, num_layers=3))
    encoder.train(training)
    expected = dense_node_embeddings(encoder, batch.x, batch.edge_index)
    out = encoder.node_embeddings(batch.x, batch.edge_index)
    assert torch.allclose(out, expected, atol=1e-5)


def test_graph_embedding_is_sum_of_its_node_embeddings():
    torch.manual_seed(1)
    batch = toy_batch()
    encoder = trained_norms(GINEncoder(4)).eval()
    nodes = encoder.node_embeddings(batch.x, batch.edge_index)
    out = encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    for g in range(batch.num_graphs):
        assert torch.allclose(out[g], nodes[batch.batch == g].sum(0), atol=1e-5)


def test_batched_graphs_embed_as_each_alone():
    torch.manual_seed(2)
    graphs = toy_batch().to_data_list()
    encoder = trained_norms(GINEncoder(4)).eval()
    batch = Batch.from_data_list(graphs)
    together = encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    for g, data in enumerate(graphs):
        alone = encoder(data.x, data.edge_index,
                        torch.zeros(data.num_nodes, dtype=torch.long))
        assert torch.allclose(together[g], alone[0], atol=1e-5)


def test_graph_without_edges_applies_the_mlps_only():
    torch.manual_seed(3)
    data = graph(3, [], seed=4)
    encoder = trained_norms(GINEncoder(4, hidden_channels=5, num_layers=2)).eval()
    out = encoder(data.x, data.edge_index, torch.zeros(3, dtype=torch.long))
    expected = dense_node_embeddings(encoder, data.x, data.edge_index).sum(0)
    assert data.edge_index.shape == (2, 0)
    assert torch.allclose(out[0], expected, atol=1e-5)


def test_single_node_graph():
    torch.manual_seed(4)
    data = graph(1, [], seed=5)
    encoder = trained_norms(GINEncoder(4)).eval()
    out = encoder(data.x, data.edge_index, torch.zeros(1, dtype=torch.long))
    assert out.shape == (1, 96) and torch.isfinite(out).all()
    expected = dense_node_embeddings(encoder, data.x, data.edge_index).sum(0)
    assert torch.allclose(out[0], expected, atol=1e-5)
    encoder.train()  # in training mode it only works batched with other nodes
    batch = toy_batch()
    assert torch.isfinite(encoder(batch.x, batch.edge_index, batch.batch)).all()
    with pytest.raises(ValueError, match="BatchNorm needs at least 2 nodes"):
        encoder(data.x, data.edge_index, torch.zeros(1, dtype=torch.long))


def test_num_graphs_keeps_trailing_graphs_without_nodes():
    batch = toy_batch()
    encoder = GINEncoder(4).eval()
    out = encoder(batch.x, batch.edge_index, batch.batch, num_graphs=6)
    assert out.shape == (6, 96)
    assert torch.equal(out[4:], torch.zeros(2, 96))
    empty = encoder(torch.zeros(0, 4), torch.zeros(2, 0, dtype=torch.long),
                    torch.zeros(0, dtype=torch.long), num_graphs=2)
    assert torch.equal(empty, torch.zeros(2, 96))


def test_gradients_reach_every_parameter():
    torch.manual_seed(6)
    batch = toy_batch()
    encoder = GINEncoder(4, hidden_channels=8)
    head = ProjectionHead(encoder.out_channels, 16)
    head(encoder(batch.x, batch.edge_index, batch.batch)).square().sum().backward()
    for name, param in [*encoder.named_parameters(), *head.named_parameters()]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_graphcl_initialisation():
    torch.manual_seed(7)
    encoder, head = GINEncoder(7, hidden_channels=16), ProjectionHead(48, 12)
    linears = [m for m in [*encoder.modules(), *head.modules()]
               if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 2 * 3 + 2
    for lin in linears:
        bound = math.sqrt(6.0 / (lin.in_features + lin.out_features))  # Xavier uniform
        assert torch.equal(lin.bias, torch.zeros_like(lin.bias))
        assert lin.weight.abs().max() <= bound
        assert lin.weight.abs().max() > 0.5 * bound


def test_projection_head_matches_linear_relu_linear():
    torch.manual_seed(5)
    head = ProjectionHead(6)
    assert head.out_channels == 6
    x = torch.randn(3, 6)
    lin1, lin2 = head.mlp[0], head.mlp[2]
    expected = (x @ lin1.weight.t() + lin1.bias).clamp(min=0) @ lin2.weight.t() + lin2.bias
    assert torch.allclose(head(x), expected, atol=1e-6)
    assert ProjectionHead(6, 2)(x).shape == (3, 2)


@pytest.mark.parametrize("x, edge_index, batch, num_graphs, match", [
    (torch.ones(3, 4, dtype=torch.long), None, None, None, "must be a floating-point"),
    (torch.ones(3, 4, dtype=torch.float64), None, None, None,
     "x has dtype torch.float64 but the encoder's parameters are torch.float32"),
    (torch.ones(3, 5), None, None, None, r"x must have shape \[num_nodes, 4\]"),
    (torch.ones(12), None, None, None, r"x must have shape \[num_nodes, 4\]"),
    (None, torch.zeros(3, 2, dtype=torch.long), None, None,
     r"edge_index must be an int64 tensor of shape \[2, num_edges\]"),
    (None, torch.zeros(2, 2), None, None, "edge_index must be an int64 tensor"),
    (None, None, torch.zeros(2, dtype=torch.long), None,
     "batch must be a 1-D int64 tensor with one entry per node"),
    (None, None, torch.zeros(3), None, "batch must be a 1-D int64 tensor"),
    (None, None, None, -1, "num_graphs must be >= 0"),
])
def test_forward_errors(x, edge_index, batch, num_graphs, match):
    encoder = GINEncoder(4)
    x = torch.ones(3, 4) if x is None else x
    edge_index = torch.tensor([[0, 1], [1, 0]]) if edge_index is None else edge_index
    batch = torch.zeros(3, dtype=torch.long) if batch is None else batch
    with pytest.raises(ValueError, match=match):
        encoder(x, edge_index, batch, num_graphs)


def test_other_errors():
    encoder = GINEncoder(4).eval()
    with pytest.raises(ValueError, match="pass num_graphs"):
        encoder(torch.zeros(0, 4), torch.zeros(2, 0, dtype=torch.long),
                torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="must be a floating-point"):
        encoder.node_embeddings(torch.ones(3, 4, dtype=torch.int32),
                                torch.zeros(2, 0, dtype=torch.long))
    for kwargs in ({"in_channels": 0}, {"in_channels": 4, "hidden_channels": 2.5},
                   {"in_channels": 4, "num_layers": 0}, {"in_channels": True}):
        with pytest.raises(ValueError, match="must be a positive int"):
            GINEncoder(**kwargs)
    with pytest.raises(ValueError, match="out_channels must be a positive int"):
        ProjectionHead(4, 0)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        ProjectionHead(-1)
    with pytest.raises(ValueError, match=r"shape \[batch_size, 4\]"):
        ProjectionHead(4)(torch.ones(2, 5))
    with pytest.raises(ValueError, match="floating-point tensor"):
        ProjectionHead(4)(torch.ones(2, 4, dtype=torch.long))


@pytest.mark.cuda
def test_cuda_matches_cpu():
    batch = toy_batch()
    encoder = trained_norms(GINEncoder(4)).eval()
    expected = encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    batch, encoder = batch.to("cuda"), encoder.to("cuda")
    out = encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
    assert out.device.type == "cuda"
    assert torch.allclose(out.cpu(), expected, atol=1e-4)
