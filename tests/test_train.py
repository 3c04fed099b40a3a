import math

import numpy as np
import pytest
import torch
from synthetic import tiny_graphs, tiny_run
from torch_geometric.data import Batch

from graphsampler.augment.diffusion import ppr_diffusion
from graphsampler.callback import Callback
from graphsampler.data import IndexedDataset
from graphsampler.embed import embed_dataset
from graphsampler.eval.diagnostics import BatchHardness
from graphsampler.eval.hardness import batch_hardness
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.precision import training_autocast
from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler
from graphsampler.train import resolve_device, train

torch.set_num_threads(1)  # 10x faster here than two threads contending for BLAS


def test_train_fills_the_bank_and_records_history():
    ds, model, sampler = tiny_run()
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
    ds, model, sampler = tiny_run()
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
    ds, model, sampler = tiny_run()
    result = train(model, ds, sampler, epochs=2, device="cpu", progress=False)
    assert set(result.history[1]) == {"epoch", "loss", "seconds", "sampler_stats"}


def test_resume_from_checkpoint_continues_exactly(tmp_path):
    ds, model, sampler = tiny_run()
    full = train(model, ds, sampler, epochs=3, device="cpu", progress=False, seed=4)

    ds, model2, sampler2 = tiny_run()
    ckpt = tmp_path / "run.pt"
    train(model2, ds, sampler2, epochs=2, device="cpu", progress=False, seed=4, checkpoint=ckpt)
    ds, model3, sampler3 = tiny_run()  # a new process: fresh objects, same checkpoint
    resumed = train(model3, ds, sampler3, epochs=3, device="cpu", progress=False, seed=4,
                    checkpoint=ckpt)
    for a, b in zip(model.state_dict().values(), model3.state_dict().values()):
        assert torch.equal(a, b)
    def strip(hs):
        return [{k: v for k, v in h.items() if k != "seconds"} for h in hs]
    assert strip(resumed.history) == strip(full.history)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a checkpoint"])
def test_a_corrupt_checkpoint_ends_in_one_line_naming_it(tmp_path, content):
    ds, model, sampler = tiny_run()
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


def test_errors():
    ds, model, _ = tiny_run()
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
    ds, model, sampler = tiny_run(UniformBatchSampler)
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


@pytest.mark.parametrize("make", [tiny_run, mvgrl_setup], ids=["graphcl", "mvgrl"])
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
