import pytest
import torch
from torch_geometric.data import Batch, Data

from graphsampler.nn import GINEncoder
from graphsampler.nn.norm import (
    COLLAPSE_RATIO,
    batchnorm_layers,
    batchnorm_statistics,
    load_batchnorm_statistics,
    recalibrate_batchnorm,
    variance_ratio,
)


def graphs(num: int, seed: int = 0) -> list[Data]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(num):
        n = 3 + i % 5
        src = torch.randint(n, (2 * n,), generator=gen)
        dst = torch.randint(n, (2 * n,), generator=gen)
        out.append(Data(x=torch.ones(n, 1), edge_index=torch.stack([src, dst])))
    return out


def embed(encoder, batch):
    return encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)


def test_homogeneous_last_batches_collapse_the_running_variance_and_recalibration_fixes_it():
    torch.manual_seed(0)
    data = graphs(64)
    encoder = GINEncoder(1, 16, 3)
    # 32 copies of one regular graph (a 5-clique, as many IMDB ego-networks are): with
    # constant features every node embeds alike, so the batch's variance is zero
    clique = torch.combinations(torch.arange(5)).T
    regular = Data(x=torch.ones(5, 1), edge_index=torch.cat([clique, clique.flip(0)], 1))
    twins = Batch.from_data_list([regular] * 32)
    encoder.train()
    for _ in range(200):  # the last batches of an epoch of twin batches
        embed(encoder, twins)
    assert all(float(m.running_var.max()) < 1e-6 for m in batchnorm_layers(encoder))
    encoder.eval()
    everything = Batch.from_data_list(data)
    collapsed = embed(encoder, everything)
    assert collapsed.abs().max() > 1e4  # the collapse: eval embeddings explode

    batches = [Batch.from_data_list(data[i:i + 16]) for i in range(0, 64, 16)]
    assert recalibrate_batchnorm(encoder, batches, lambda b: embed(encoder, b)) == 4
    assert not encoder.training
    fixed = embed(encoder, everything)
    assert fixed.abs().max() < 1e3
    # oracle: the running statistics are the equal-weight means of the batch statistics
    first = batchnorm_layers(encoder)[0]
    running_mean, running_var = first.running_mean.clone(), first.running_var.clone()
    captured = []
    hook = first.register_forward_hook(lambda m, i, o: captured.append(i[0]))
    encoder.train()
    with torch.no_grad():
        for b in batches:
            embed(encoder, b)
    hook.remove()
    encoder.eval()
    mean = torch.stack([h.mean(0) for h in captured]).mean(0)
    var = torch.stack([h.var(0, unbiased=True) for h in captured]).mean(0)
    assert torch.allclose(running_mean, mean, atol=1e-5)
    assert torch.allclose(running_var, var, rtol=1e-4, atol=1e-6)


def test_parameters_and_momentum_untouched_and_empty_pass_keeps_statistics():
    encoder = GINEncoder(1, 8, 2)
    params = [p.clone() for p in encoder.parameters()]
    before = [m.running_var.clone() for m in batchnorm_layers(encoder)]
    assert recalibrate_batchnorm(encoder, [], lambda b: None) == 0
    assert all(torch.equal(a, m.running_var) for a, m in zip(before, batchnorm_layers(encoder)))
    recalibrate_batchnorm(encoder, [Batch.from_data_list(graphs(8))],
                          lambda b: embed(encoder, b))
    assert all(torch.equal(a, b) for a, b in zip(params, encoder.parameters()))
    assert all(m.momentum == 0.1 for m in batchnorm_layers(encoder))


def test_model_without_batchnorm_is_left_alone():
    lin = torch.nn.Linear(3, 3)
    assert recalibrate_batchnorm(lin, [torch.randn(4, 3)], lin) == 0


def test_variance_ratio_against_a_loop_over_channels():
    gen = torch.Generator().manual_seed(1)
    trained = [(torch.randn(4, generator=gen), torch.rand(4, generator=gen) + 0.1)
               for _ in range(3)]
    reference = [(torch.randn(4, generator=gen), torch.rand(4, generator=gen) + 0.1)
                 for _ in range(3)]
    trained[1][1][2] = 1e-22  # a collapsed channel: amplified sqrt((r + eps) / eps) times
    expected = min(float((v[c] + 1e-5) / (r[c] + 1e-5))
                   for (_, v), (_, r) in zip(trained, reference) for c in range(4))
    assert variance_ratio(trained, reference) == pytest.approx(expected)
    assert variance_ratio(trained, reference) < COLLAPSE_RATIO
    # a dead channel (constant over the data) is no collapse: eps bounds its scale
    reference[1][1][2] = 1e-9
    assert variance_ratio(trained, reference) > 0.9 * min(
        float((v[c] + 1e-5) / (r[c] + 1e-5)) for (_, v), (_, r) in zip(trained, reference)
        for c in range(4)) > COLLAPSE_RATIO
    trained[2][0][0] = float("nan")
    assert variance_ratio(trained, reference) == 0.0


def test_statistics_round_trip_and_errors():
    torch.manual_seed(0)
    encoder = GINEncoder(1, 8, num_layers=2)
    batch = Batch.from_data_list(graphs(12))
    encoder.train()
    embed(encoder, batch)
    saved = batchnorm_statistics(encoder)
    recalibrate_batchnorm(encoder, [Batch.from_data_list(graphs(12, seed=3))],
                          lambda b: embed(encoder, b))
    assert not torch.equal(batchnorm_layers(encoder)[0].running_var, saved[0][1])
    load_batchnorm_statistics(encoder, saved)
    assert all(torch.equal(m.running_var, v)
               for m, (_, v) in zip(batchnorm_layers(encoder), saved))
    with pytest.raises(ValueError, match="statistics for 1 BatchNorm layers given, the "
                                         "module has 2"):
        load_batchnorm_statistics(encoder, saved[:1])
