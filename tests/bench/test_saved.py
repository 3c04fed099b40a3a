import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import Batch

import graphsampler
from graphsampler.bench import RunConfig
from graphsampler.bench.saved import save_model


@pytest.mark.parametrize("method", ["graphcl", "mvgrl"])
def test_a_saved_model_loads_back_in_one_line(tmp_path, method):
    config = RunConfig(method=method, hidden_channels=16, augmentation="dnodes"
                       if method == "graphcl" else "random2", seed=3)
    model = config.build_method(7)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))  # not the weights a fresh build has
    path = save_model(model, config, 7, tmp_path / "model.pt")

    loaded = graphsampler.load_model(path)

    assert type(loaded) is type(model) and not loaded.training
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    if method == "graphcl":
        batch = Batch.from_data_list(tiny_graphs(6, num_features=7))
        model.eval()
        torch.testing.assert_close(loaded.embed(batch), model.embed(batch))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary left


@pytest.mark.parametrize("content", [b"", b"junk", None])
def test_a_file_that_is_no_saved_model_ends_in_one_line(tmp_path, content):
    path = tmp_path / "model.pt"
    if content is None:
        torch.save({"weights": torch.zeros(2)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        graphsampler.load_model(path)
    message = str(err.value)
    assert message.startswith(f"cannot load the model {path} (") and "\n" not in message
    assert message.endswith("give a file written by graphsampler train --save-model")
