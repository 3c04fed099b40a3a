import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data

from graphsampler.augment.diffusion import ppr_diffusion
from graphsampler.losses.jsd import local_global_jsd
from graphsampler.nn.gcn import GCNEncoder
from graphsampler.nn.heads import MLPShortcutHead


def random_graph(n: int, num_edges: int, gen: torch.Generator) -> torch.Tensor:
    src = torch.randint(0, n, (num_edges,), generator=gen)
    dst = torch.randint(0, n, (num_edges,), generator=gen)
    keep = src != dst
    edges = torch.stack([src[keep], dst[keep]])
    edges = torch.cat([edges, edges.flip(0)], dim=1)  # undirected, both directions
    return torch.unique(edges, dim=1)


def mvgrl_batch(sizes=(4, 6, 3), features=5, seed=0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for n in sizes:
        edge_index = random_graph(n, 2 * n, gen)
        diff_index, diff_weight = ppr_diffusion(edge_index, n, k=3)
        graphs.append(Data(x=torch.randn(n, features, generator=gen),
                           edge_index=edge_index, diff_edge_index=diff_index,
                           diff_edge_weight=diff_weight))
    return Batch.from_data_list(graphs)


def dense_adjacency_view(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """The reference's normalize_adj: D^-1/2 (A + I) D^-1/2 (symmetric A)."""
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    a += torch.eye(n)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def dense_diffusion_view(edge_index, edge_weight, n: int) -> torch.Tensor:
    """S_sparse[target, source] = weight, used as is."""
    s = torch.zeros(n, n)
    s[edge_index[1], edge_index[0]] = edge_weight
    return s


def reference_encoder(encoder: GCNEncoder, x, propagation, batch, num_graphs):
    """H' = PReLU(P H W + b) per layer with dense P; sums per graph, concatenated."""
    h, pooled = x, []
    one_hot = F.one_hot(batch, num_graphs).float()
    for conv, act in zip(encoder.convs, encoder.acts):
        z = propagation @ (h @ conv.lin.weight.t()) + conv.bias
        h = torch.where(z >= 0, z, act.weight * z)
        pooled.append(one_hot.t() @ h)
    return h, torch.cat(pooled, dim=1)


def randomise(module: torch.nn.Module, seed: int) -> None:
    """Nonzero biases and distinct PReLU slopes, so the oracle checks them too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)


@pytest.mark.parametrize("num_layers", [1, 3])
def test_adjacency_view_matches_dense_reference(num_layers):
    batch = mvgrl_batch()
    encoder = GCNEncoder(5, hidden_channels=7, num_layers=num_layers)
    randomise(encoder, 1)
    local, global_ = encoder(batch.x, batch.edge_index, batch.batch,
                             num_graphs=batch.num_graphs)
    ref_local, ref_global = reference_encoder(
        encoder, batch.x, dense_adjacency_view(batch.edge_index, batch.num_nodes),
        batch.batch, batch.num_graphs)
    assert local.shape == (batch.num_nodes, 7)
    assert global_.shape == (3, 7 * num_layers) == (3, encoder.out_channels)
    torch.testing.assert_close(local, ref_local, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(global_, ref_global, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_diffusion_view_uses_weights_as_they_are(num_layers):
    batch = mvgrl_batch(seed=2)
    encoder = GCNEncoder(5, hidden_channels=6, num_layers=num_layers, normalize=False)
    randomise(encoder, 3)
    local, global_ = encoder(batch.x, batch.diff_edge_index, batch.batch,
                             batch.num_graphs, edge_weight=batch.diff_edge_weight)
    propagation = dense_diffusion_view(batch.diff_edge_index, batch.diff_edge_weight,
                                       batch.num_nodes)
    ref_local, ref_global = reference_encoder(encoder, batch.x, propagation,
                                              batch.batch, batch.num_graphs)
    torch.testing.assert_close(local, ref_local, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(global_, ref_global, rtol=1e-5, atol=1e-5)


def test_graph_representation_does_not_depend_on_batch_mates():
    batch = mvgrl_batch(seed=4)
    encoder = GCNEncoder(5, hidden_channels=8, num_layers=2)
    _, together = encoder(batch.x, batch.edge_index, batch.batch, num_graphs=3)
    for i, graph in enumerate(batch.to_data_list()):
        _, alone = encoder(graph.x, graph.edge_index,
                           torch.zeros(graph.num_nodes, dtype=torch.long))
        torch.testing.assert_close(alone[0], together[i], rtol=1e-5, atol=1e-5)
    _, padded = encoder(batch.x, batch.edge_index, batch.batch, num_graphs=5)
    assert padded.shape == (5, 16) and (padded[3:] == 0).all()


def test_defaults_and_registered_layers():
    encoder = GCNEncoder(3)
    assert (encoder.hidden_channels, encoder.num_layers, encoder.out_channels) \
        == (512, 4, 2048)
    names = {name for name, _ in encoder.named_parameters()}
    for layer in range(4):
        assert {f"convs.{layer}.lin.weight", f"convs.{layer}.bias",
                f"acts.{layer}.weight"} <= names
    assert len(names) == 12
    assert encoder.normalize and not GCNEncoder(3, normalize=False).normalize


def test_one_jsd_step_trains_every_encoder_parameter():
    batch = mvgrl_batch(sizes=(5, 4, 6, 3), seed=5)
    hidden, layers = 16, 2
    adjacency = GCNEncoder(5, hidden, layers)
    diffusion = GCNEncoder(5, hidden, layers, normalize=False)
    local_head = MLPShortcutHead(hidden, hidden)
    global_head = MLPShortcutHead(layers * hidden, hidden)
    modules = torch.nn.ModuleList([adjacency, diffusion, local_head, global_head])
    before = {name: p.detach().clone() for name, p in modules.named_parameters()}
    optimizer = torch.optim.Adam(modules.parameters(), lr=1e-3)

    local_1, global_1 = adjacency(batch.x, batch.edge_index, batch.batch,
                                  num_graphs=batch.num_graphs)
    local_2, global_2 = diffusion(batch.x, batch.diff_edge_index, batch.batch,
                                  batch.num_graphs, edge_weight=batch.diff_edge_weight)
    loss = (local_global_jsd(local_head(local_1), global_head(global_2), batch.batch)
             + local_global_jsd(local_head(local_2), global_head(global_1), batch.batch))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    unchanged = [name for name, p in modules.named_parameters()
                 if torch.equal(p, before[name])]
    assert unchanged == []
    assert any(name.startswith("0.convs.") for name in before)
    assert any(name.startswith("1.convs.") for name in before)


def test_reset_parameters():
    encoder = GCNEncoder(4, 6, 2)
    randomise(encoder, 6)
    encoder.reset_parameters()
    for act in encoder.acts:
        assert act.weight.item() == pytest.approx(0.25)
    assert (encoder.convs[1].bias == 0).all()


def test_constructor_errors():
    for kwargs in ({"in_channels": 0}, {"in_channels": 3, "hidden_channels": -1},
                   {"in_channels": 3, "num_layers": 0},
                   {"in_channels": 3, "num_layers": True}):
        with pytest.raises(ValueError, match="must be a positive int"):
            GCNEncoder(**kwargs)


def test_forward_errors():
    batch = mvgrl_batch()
    encoder = GCNEncoder(5, 4, 2)
    x, ei, b = batch.x, batch.edge_index, batch.batch
    with pytest.raises(ValueError, match=r"x must be a floating-point tensor of shape "
                                         r"\[num_nodes, 5\]"):
        encoder(x[:, :4], ei, b)
    with pytest.raises(ValueError, match="x must be a floating-point"):
        encoder(x.long(), ei, b)
    with pytest.raises(ValueError, match="encoder's parameters are torch.float32"):
        encoder(x.double(), ei, b)
    with pytest.raises(ValueError, match=r"edge_index must be an int64 tensor of shape "
                                         r"\[2, num_edges\]"):
        encoder(x, ei[:1], b)
    with pytest.raises(ValueError, match="edge_weight must be a 1-D torch.float32 "
                                         "tensor with one entry per edge"):
        encoder(x, ei, b, edge_weight=torch.ones(ei.size(1) - 1))
    with pytest.raises(ValueError, match="edge_weight must be a 1-D"):
        encoder(x, ei, b, edge_weight=torch.ones(ei.size(1), dtype=torch.float64))
    with pytest.raises(ValueError, match="batch must be a 1-D int64 tensor with one "
                                         "entry per node"):
        encoder(x, ei, b[:-1])
    with pytest.raises(ValueError, match="cannot infer the number of graphs"):
        encoder(x[:0], ei[:, :0], b[:0])
    with pytest.raises(ValueError, match="num_graphs must be >= 0"):
        encoder(x, ei, b, num_graphs=-1)


def test_argument_order_is_gin_encoders():
    batch = mvgrl_batch(seed=10)
    encoder = GCNEncoder(5, 4, 2, normalize=False)
    randomise(encoder, 11)
    # (x, edge_index, batch, num_graphs) as GINEncoder; edge_weight only by keyword
    local, global_ = encoder(batch.x, batch.diff_edge_index, batch.batch,
                             batch.num_graphs + 1, edge_weight=batch.diff_edge_weight)
    by_keyword = encoder(x=batch.x, edge_index=batch.diff_edge_index, batch=batch.batch,
                         edge_weight=batch.diff_edge_weight,
                         num_graphs=batch.num_graphs + 1)
    assert global_.shape == (batch.num_graphs + 1, 8) and (global_[-1] == 0).all()
    torch.testing.assert_close((local, global_), by_keyword, rtol=0, atol=0)
    with pytest.raises(TypeError):
        encoder(batch.x, batch.diff_edge_index, batch.batch, batch.num_graphs,
                batch.diff_edge_weight)


def test_argument_type_errors():
    batch = mvgrl_batch()
    encoder = GCNEncoder(5, 4, 2)
    x, ei, b, w = batch.x, batch.edge_index, batch.batch, torch.ones(batch.num_edges)
    with pytest.raises(ValueError, match="^num_graphs must be an int or None, got Tensor "
                                         r"\(edge weights are keyword-only: edge_weight="):
        encoder(x, ei, b, w)
    with pytest.raises(ValueError, match="^num_graphs must be an int or None, got float$"):
        encoder(x, ei, b, 3.0)
    with pytest.raises(ValueError, match="^num_graphs must be an int or None, got bool$"):
        encoder(x, ei, b, True)
    with pytest.raises(ValueError, match="^edge_weight must be a torch.Tensor or None, "
                                         "got list$"):
        encoder(x, ei, b, edge_weight=w.tolist())
    for name, args in (("x", (x.tolist(), ei, b)), ("edge_index", (x, ei.numpy(), b)),
                       ("batch", (x, ei, None))):
        with pytest.raises(ValueError, match=f"^{name} must be a torch.Tensor, got "):
            encoder(*args)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    batch = mvgrl_batch(seed=9)
    encoder = GCNEncoder(5, 8, 2, normalize=False)
    local, global_ = encoder(batch.x, batch.diff_edge_index, batch.batch,
                             batch.num_graphs, edge_weight=batch.diff_edge_weight)
    gpu = batch.to("cuda")
    local_gpu, global_gpu = encoder.to("cuda")(gpu.x, gpu.diff_edge_index, gpu.batch,
                                              gpu.num_graphs,
                                              edge_weight=gpu.diff_edge_weight)
    torch.testing.assert_close(local_gpu.cpu(), local, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(global_gpu.cpu(), global_, rtol=1e-4, atol=1e-5)
