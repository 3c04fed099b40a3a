"""The diagnostics callbacks: BatchHardness's means over an epoch's batches, and
TrainingCounts's spread of how often each graph has been trained on."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from synthetic import tiny_graphs

from graphsampler.callback import Callback
from graphsampler.data import IndexedDataset
from graphsampler.eval.diagnostics import BatchHardness, TrainingCounts
from graphsampler.eval.hardness import batch_hardness
from graphsampler.methods.graphcl import GraphCL
from graphsampler.samplers import ProximityBatchSampler
from graphsampler.train import train


def setup():
    torch.manual_seed(0)
    ds = IndexedDataset(tiny_graphs(40))
    return ds, GraphCL(3), ProximityBatchSampler(len(ds), 8, seed=0, num_candidates=20,
                                                 num_neighbors=5)


def test_batch_hardness_is_the_mean_over_the_epochs_batches():
    gen = torch.Generator().manual_seed(0)
    steps = [(torch.randn(6, 4, generator=gen), torch.randint(0, 2, (6,), generator=gen))
             for _ in range(3)]
    callback, record = BatchHardness(), {}
    callback.on_epoch_start(0, None)
    for z, y in steps:
        callback.on_step(SimpleNamespace(y=y), torch.tensor(0.0), z, None)
    callback.on_step(SimpleNamespace(y=None), torch.tensor(0.0), torch.randn(1, 4), None)
    callback.on_epoch_end(0, record)
    stats = [batch_hardness(z, y) for z, y in steps]
    assert set(record) == set(stats[0])
    for key in record:
        assert record[key] == pytest.approx(np.mean([s[key] for s in stats]))
    callback.on_epoch_start(1, None)  # an epoch without a batch of two adds nothing
    callback.on_epoch_end(1, empty := {})
    assert empty == {}


class SeenIndices(Callback):
    def __init__(self):
        self.seen = []

    def on_step(self, batch, loss, z, sampler):
        self.seen += batch.sample_idx.tolist()


def test_training_counts_spread():
    ds, model, sampler = setup()
    counts, seen = TrainingCounts(len(ds)), SeenIndices()
    result = train(model, ds, sampler, epochs=3, device="cpu", progress=False,
                   callbacks=[counts, seen])
    first = result.history[0]  # a uniform warm-up epoch trains every graph once
    assert (first["count_min"], first["count_median"], first["count_p90"]) == (1, 1, 1)
    expected = torch.bincount(torch.tensor(seen.seen), minlength=len(ds)).double()
    last = result.history[-1]
    assert counts.counts.tolist() == expected.long().tolist()
    assert expected.max() > 3 and expected.min() < 3  # hard batches repeat some graphs
    for key, q in (("count_min", 0.0), ("count_p10", 0.1), ("count_median", 0.5),
                   ("count_p90", 0.9)):
        assert last[key] == pytest.approx(float(np.quantile(expected.numpy(), q)))
