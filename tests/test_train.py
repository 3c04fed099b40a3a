import pytest
import torch

from synthetic import tiny_graphs
from graphsampler.data import IndexedDataset
from graphsampler.methods.graphcl import GraphCL
from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler
from graphsampler.train import embed_dataset, resolve_device, train


def setup(sampler_cls=ProximityBatchSampler):
    torch.manual_seed(0)
    ds = IndexedDataset(tiny_graphs(40))
    kw = dict(num_candidates=20, num_neighbors=5) if sampler_cls is ProximityBatchSampler else {}
    return ds, GraphCL(3), sampler_cls(len(ds), 8, seed=0, **kw)


def test_train_fills_the_bank_and_records_history():
    ds, model, sampler = setup()
    result = train(model, ds, sampler, epochs=3, device="cpu", progress=False)
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert sampler.bank.is_full and sampler.bank.dim == 96
    assert result.history[0]["sampler_stats"].get("uniform")  # warm-up epoch
    assert result.history[2]["sampler_stats"]["graph_builds"] == 1
    for h in result.history:
        assert 0 <= h["false_negative_rate"] <= 1 and -1 <= h["neg_cos_mean"] <= 1.0001
    assert result.seconds > 0


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
    strip = lambda hs: [{k: v for k, v in h.items() if k != "seconds"} for h in hs]
    assert strip(resumed.history) == strip(full.history)


def test_embed_dataset_in_dataset_order():
    ds, model, _ = setup()
    x, y = embed_dataset(model, ds, device="cpu", batch_size=7)
    assert x.shape == (40, 96) and y.tolist() == [i % 2 for i in range(40)]


def test_errors():
    ds, model, _ = setup()
    with pytest.raises(ValueError, match="the sampler is for 39 instances but the dataset has 40"):
        train(model, ds, UniformBatchSampler(39, 8), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 0"):
        train(model, ds, UniformBatchSampler(40, 8), epochs=-1, progress=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train(model, ds, UniformBatchSampler(40, 8), lr=0.0, progress=False)
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
