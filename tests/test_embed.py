import numpy as np
import pytest
import torch
from synthetic import tiny_graphs, tiny_run
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from graphsampler.data import IndexedDataset
from graphsampler.embed import DEFAULT_NORM, embed_dataset, embed_normalisations
from graphsampler.methods.graphcl import GraphCL
from graphsampler.nn.norm import COLLAPSE_RATIO
from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler
from graphsampler.train import train

torch.set_num_threads(1)  # 10x faster here than two threads contending for BLAS


def test_embed_dataset_in_dataset_order():
    ds, model, _ = tiny_run()
    x, y = embed_dataset(model, ds, device="cpu", batch_size=7)
    assert x.shape == (40, 96) and y.tolist() == [i % 2 for i in range(40)]


class CliqueBatches(UniformBatchSampler):
    """Uniform batches, except that every batch of the last epoch is copies of one regular
    graph: the homogeneous last batches a hard sampler can end on."""

    def __init__(self, num_items, batch_size, cliques, last_epoch):
        super().__init__(num_items, batch_size)
        self.cliques, self.last_epoch = cliques, last_epoch

    def _plan(self, progress, remaining):
        if progress.epoch < self.last_epoch:
            return super()._plan(progress, remaining)
        return [self.cliques[:self.batch_size]] * remaining


def with_cliques():
    clique = torch.combinations(torch.arange(5)).T
    regular = Data(x=torch.ones(5, 3), edge_index=torch.cat([clique, clique.flip(0)], 1),
                   y=torch.tensor([0]))
    graphs = [Data(x=torch.ones_like(g.x), edge_index=g.edge_index, y=g.y)
              for g in tiny_graphs(40)] + [regular.clone() for _ in range(8)]
    return IndexedDataset(graphs)


def test_embeddings_do_not_depend_on_a_collapsed_batchnorm():
    torch.manual_seed(0)
    ds = with_cliques()
    sampler = CliqueBatches(len(ds), 8, torch.arange(40, 48), last_epoch=2)
    model = GraphCL(3)
    train(model, ds, sampler, epochs=3, device="cpu", progress=False)
    # the collapse: statistics of the last, homogeneous batches blow the embeddings up
    stale, _ = embed_dataset(model, ds, device="cpu", norm="train")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    fresh, _ = embed_dataset(model, ds, device="cpu", norm="clean",
                             recalibration_batch_size=8)
    assert np.abs(stale).max() > 5 * np.abs(fresh).max()
    # invariant: whatever statistics training left, the evaluation embeddings are the same
    corrupted = GraphCL(3)
    corrupted.load_state_dict(state)
    for m in corrupted.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_var.fill_(1e-22)  # what the issue measured after proximity batches
            m.running_mean.normal_()
    again, _ = embed_dataset(corrupted, ds, device="cpu", norm="clean",
                             recalibration_batch_size=8)
    assert np.allclose(again, fresh, rtol=1e-5, atol=1e-5)
    # oracle: the same weights, BatchNorm statistics averaged over the batches by hand
    reference = GraphCL(3)
    reference.load_state_dict(state)
    for m in (m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm1d)):
        m.reset_running_stats()
        m.momentum = None
    reference.train()
    order = DataLoader(ds, batch_size=8, shuffle=True,  # the same shuffled pass
                       generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for batch in order:
            reference.embed(batch)
    reference.eval()
    expected = reference.embed(Batch.from_data_list([ds[i] for i in range(len(ds))]))
    assert np.allclose(fresh, expected.double().numpy(), rtol=1e-4, atol=1e-4)
    assert all(p.equal(state[k]) for k, p in model.state_dict().items()
               if "running" not in k and "num_batches" not in k)


def test_collapse_detector_fires_on_collapsed_statistics_only():
    torch.manual_seed(0)
    ds = with_cliques()
    collapsed = GraphCL(3)
    train(collapsed, ds, CliqueBatches(len(ds), 8, torch.arange(40, 48), last_epoch=2),
          epochs=3, device="cpu", progress=False)
    for m in collapsed.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_var[:4] = 1e-22  # what the issue measured after near-kNN batches
    emb = embed_normalisations(collapsed, ds, device="cpu", recalibration_batch_size=8)
    assert emb.collapsed and emb.default == "clean" and emb.variance_ratio < COLLAPSE_RATIO
    x, _ = embed_dataset(collapsed, ds, device="cpu")  # the protocol re-estimates
    assert np.allclose(x, emb.by_norm["clean"])
    # healthy runs: uniform and proximity batches, several seeds: the detector stays quiet
    for seed in range(3):
        for sampler_cls in (UniformBatchSampler, ProximityBatchSampler):
            ds, model, sampler = tiny_run(sampler_cls)
            train(model, ds, sampler, epochs=3, device="cpu", progress=False, seed=seed)
            emb = embed_normalisations(model, ds, device="cpu", recalibration_batch_size=8)
            assert not emb.collapsed and emb.default == DEFAULT_NORM
            assert emb.variance_ratio > 100 * COLLAPSE_RATIO
            assert set(emb.by_norm) == {"train", "clean"}
            # the model keeps training's statistics: the default embeds as "train"
            x, _ = embed_dataset(model, ds, device="cpu", norm="train")
            assert np.allclose(x, emb.by_norm["train"])
    with pytest.raises(ValueError, match="norm must be default, train, clean; got 'views'"):
        embed_dataset(model, ds, device="cpu", norm="views")
