import math

import numpy as np
import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from graphsampler.augment.diffusion import ppr_diffusion
from graphsampler.callback import Callback
from graphsampler.data import IndexedDataset
from graphsampler.eval.diagnostics import BatchHardness
from graphsampler.eval.hardness import batch_hardness
from graphsampler.methods.graphcl import GraphCL
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.nn.norm import COLLAPSE_RATIO
from graphsampler.precision import training_autocast
from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler
from graphsampler.train import (
    DEFAULT_NORM,
    embed_dataset,
    embed_normalisations,
    resolve_device,
    train,
)

torch.set_num_threads(1)  # 10x faster here than two threads contending for BLAS


def setup(sampler_cls=ProximityBatchSampler):
    torch.manual_seed(0)
    ds = IndexedDataset(tiny_graphs(40))
    kw = dict(num_candidates=20, num_neighbors=5) if sampler_cls is ProximityBatchSampler else {}
    return ds, GraphCL(3), sampler_cls(len(ds), 8, seed=0, **kw)


def test_train_fills_the_bank_and_records_history():
    ds, model, sampler = setup()
    result = train(model, ds, sampler, epochs=3, device="cpu", progress=False,
                   callbacks=[BatchHardness()])
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert sampler.bank.is_full and sampler.bank.dim == 96
    assert result.history[0]["sampler_stats"].get("uniform")  # warm-up epoch
    assert result.history[2]["sampler_stats"]["graph_builds"] == 1
    for h in result.history:
        assert 0 <= h["false_negative_rate"] <= 1 and -1 <= h["neg_cos_mean"] <= 1.0001
    assert result.seconds > 0


class Recorder(Callback):
    """Keeps what the loop shows it, and the hardness of each batch by brute force."""

    def __init__(self):
        self.events, self.hardness = [], []

    def on_epoch_start(self, epoch, sampler):
        self.events.append(("start", epoch))
        self.hardness.append([])

    def on_step(self, batch, loss, z, sampler):
        assert not loss.requires_grad and not z.requires_grad and z.dtype == torch.float32
        assert z.shape == (batch.num_graphs, 96) and sampler.bank.dim == 96
        self.events.append(("step", batch.num_graphs))
        self.hardness[-1].append(batch_hardness(z, batch.y)["neg_cos_mean"])

    def on_epoch_end(self, epoch, record):
        self.events.append(("end", epoch))
        record["steps"] = sum(e[0] == "step" for e in self.events)


def test_callbacks_see_every_step_and_add_to_the_history():
    ds, model, sampler = setup()
    recorder = Recorder()
    result = train(model, ds, sampler, epochs=2, device="cpu", progress=False,
                   callbacks=[recorder, BatchHardness()])
    assert recorder.events == ([("start", 0)] + [("step", 8)] * 5 + [("end", 0)]
                               + [("start", 1)] + [("step", 8)] * 5 + [("end", 1)])
    assert [h["steps"] for h in result.history] == [5, 10]
    for h, by_batch in zip(result.history, recorder.hardness):
        assert h["neg_cos_mean"] == pytest.approx(np.mean(by_batch))


def test_no_callbacks_no_diagnostics(monkeypatch):
    import graphsampler.eval.diagnostics as diagnostics
    monkeypatch.setattr(diagnostics, "batch_hardness", None)  # would raise if called
    ds, model, sampler = setup()
    result = train(model, ds, sampler, epochs=2, device="cpu", progress=False)
    assert set(result.history[1]) == {"epoch", "loss", "seconds", "sampler_stats"}


def test_resume_from_checkpoint_continues_exactly(tmp_path):
    ds, model, sampler = setup()
    full = train(model, ds, sampler, epochs=3, device="cpu", progress=False, seed=4)

    ds, model2, sampler2 = setup()
    ckpt = tmp_path / "run.pt"
    train(model2, ds, sampler2, epochs=2, device="cpu", progress=False, seed=4, checkpoint=ckpt)
    ds, model3, sampler3 = setup()  # a new process: fresh objects, same checkpoint
    resumed = train(model3, ds, sampler3, epochs=3, device="cpu", progress=False, seed=4,
                    checkpoint=ckpt)
    for a, b in zip(model.state_dict().values(), model3.state_dict().values()):
        assert torch.equal(a, b)
    def strip(hs):
        return [{k: v for k, v in h.items() if k != "seconds"} for h in hs]
    assert strip(resumed.history) == strip(full.history)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a checkpoint"])
def test_a_corrupt_checkpoint_ends_in_one_line_naming_it(tmp_path, content):
    ds, model, sampler = setup()
    ckpt = tmp_path / "run.pt"
    ckpt.write_bytes(content)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError) as err:
        train(model, ds, sampler, epochs=2, device="cpu", progress=False, checkpoint=ckpt)
    message = str(err.value)
    assert message.startswith(f"cannot resume from the checkpoint {ckpt} (")
    assert message.endswith("; delete it to restart that run from its first epoch")
    assert "\n" not in message and ckpt.read_bytes() == content  # left for the user
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # no step


def test_embed_dataset_in_dataset_order():
    ds, model, _ = setup()
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


def test_errors():
    ds, model, _ = setup()
    with pytest.raises(ValueError, match="the sampler is for 39 instances but the dataset has 40"):
        train(model, ds, UniformBatchSampler(39, 8), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 0"):
        train(model, ds, UniformBatchSampler(40, 8), epochs=-1, progress=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train(model, ds, UniformBatchSampler(40, 8), lr=0.0, progress=False)
    with pytest.raises(ValueError,
                       match=r"unknown precision 'fp16'; choose one of \['fp32', 'bf16'\]"):
        train(model, ds, UniformBatchSampler(40, 8), precision="fp16", progress=False)
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU is visible"):
            resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_diverging_loss_is_reported():
    ds, model, sampler = setup(UniformBatchSampler)
    # caught by the loss's input check or, for a finite input, by the loop's loss check
    with pytest.raises((ValueError, FloatingPointError), match="learning rate"):
        train(model, ds, sampler, epochs=5, lr=1e12, device="cpu", progress=False)


def mvgrl_setup():
    torch.manual_seed(0)
    graphs = tiny_graphs(24)
    for g in graphs:
        g.diff_edge_index, g.diff_edge_weight = ppr_diffusion(g.edge_index, g.num_nodes, k=4)
    ds = IndexedDataset(graphs)
    sampler = ProximityBatchSampler(len(ds), 8, num_candidates=10, num_neighbors=3, seed=0)
    return ds, MVGRL(3, hidden_channels=16, num_layers=2), sampler


@pytest.mark.parametrize("make", [setup, mvgrl_setup], ids=["graphcl", "mvgrl"])
def test_bf16_training_multiplies_in_bfloat16_and_keeps_float32_state(make):
    ds, model, sampler = make()
    linear_dtypes = set()
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, i, out: linear_dtypes.add(out.dtype))
    before = [p.detach().clone() for p in model.parameters()]
    result = train(model, ds, sampler, epochs=2, device="cpu", progress=False,
                   precision="bf16")
    assert linear_dtypes == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters())
               if b.requires_grad and b.grad is not None)
    assert sampler.bank.is_full and sampler.bank.embeddings.dtype == torch.float32
    assert result.history[1]["sampler_stats"]["graph_builds"] == 1  # a proximity epoch
    assert all(math.isfinite(h["loss"]) for h in result.history)
    linear_dtypes.clear()
    x, _ = embed_dataset(model, ds, device="cpu")  # evaluation stays float32
    assert linear_dtypes == {torch.float32} and np.isfinite(x).all()


def test_a_bf16_step_is_close_to_the_float32_step():
    ds, model, _ = mvgrl_setup()
    batch = Batch.from_data_list([ds[i] for i in range(8)])
    _, z32 = model.training_step(batch)
    with training_autocast(torch.device("cpu"), "bf16"):
        _, z16 = model.training_step(batch)
    error = (z16.float() - z32).norm() / z32.norm()
    assert 0 < error < 0.02  # bfloat16 keeps 8 bits: about 0.4% per rounding


@pytest.mark.cuda
def test_bf16_training_on_cuda():
    ds, model, sampler = mvgrl_setup()
    result = train(model, ds, sampler, epochs=2, device="cuda", progress=False,
                   precision="bf16")
    assert all(math.isfinite(h["loss"]) for h in result.history)
    assert sampler.bank.embeddings.dtype == torch.float32


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
            ds, model, sampler = setup(sampler_cls)
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
