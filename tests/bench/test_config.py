import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import InMemoryDataset

from graphsampler.bench import METHODS, MethodSpec, RunConfig, run
from graphsampler.losses.infonce import InfoNCELoss
from graphsampler.methods import ContrastiveMethod
from graphsampler.nn.gin import GINEncoder
from graphsampler.samplers import ProximityBatchSampler

torch.set_num_threads(1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="simclr"), r"unknown method 'simclr'; choose one of graphcl, mvgrl"),
    (dict(method="mvgrl", loss="infonce"), "mvgrl takes the loss jsd, got 'infonce'"),
    (dict(sampler="random"),
     r"unknown sampler 'random'; choose one of uniform, fixed, knn, proximity, adaptive"),
    (dict(precision="fp16"), r"unknown precision 'fp16'; choose one of \['fp32', 'bf16'\]"),
    (dict(epochs=0), "epochs must be >= 1, got 0"),
    (dict(epochs=True), "epochs must be int, got True"),
    (dict(lr=0.0), "lr must be a number > 0, got 0.0"),
    (dict(lr=float("nan")), "lr must be a number > 0, got nan"),
    (dict(batch_size=0), "batch_size must be >= 1, got 0"),
    (dict(seed=-1), "seed must be >= 0, got -1"),
    (dict(hidden_channels=0), "hidden_channels must be a positive int, got 0"),
    (dict(augmentation="random9"), "unknown GraphCL augmentation 'random9'"),
    (dict(sampler="proximity", restart_prob=1.0), r"restart_prob must be a number in \[0, 1\)"),
    (dict(sampler="proximity", num_candidates=0), "num_candidates must be >= 1, got 0"),
    (dict(sampler="proximity", num_neighbors=5, num_candidates=5),
     r"num_neighbors \(5\) must be smaller than num_candidates \(5\)"),
])
def test_run_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**kwargs)


def test_the_config_accepts_what_the_sampler_accepts():
    """One check serves: a restart probability of 0 is the sampler's to accept, and the
    config takes it; 1 the sampler refuses, and so does the config."""
    ProximityBatchSampler(1000, 8, restart_prob=0.0)
    assert RunConfig(sampler="proximity", restart_prob=0.0).restart_prob == 0.0
    with pytest.raises(ValueError) as sampler_error:
        ProximityBatchSampler(1000, 8, restart_prob=1.0)
    with pytest.raises(ValueError) as config_error:
        RunConfig(sampler="proximity", restart_prob=1.0)
    assert str(config_error.value) == str(sampler_error.value)


def test_settings_resolve_defaults_and_keep_only_what_applies():
    mvgrl = RunConfig(method="mvgrl", sampler="knn")
    assert (mvgrl.loss, mvgrl.lr, mvgrl.hidden_channels) == ("jsd", 0.001, 512)
    settings = mvgrl.settings()
    assert "augmentation" not in settings and "restart_prob" not in settings
    assert settings["lr"] == 0.001 and settings["hidden_channels"] == 512
    proximity = RunConfig(sampler="proximity").settings()
    assert proximity["lr"] == 0.01 and proximity["augmentation"] == "random2"
    assert {"num_candidates", "num_neighbors", "restart_prob"} <= set(proximity)
    assert RunConfig(lr=None).key() == RunConfig(lr=0.01).key()  # the method's lr
    assert RunConfig(precision="bf16").key() != RunConfig().key()
    assert RunConfig.from_record({**settings, "retired": 1}) == mvgrl


class Toy(ContrastiveMethod):
    """A method in one small file: a GIN encoder whose two views are the graph and the
    graph with its features scaled."""

    def __init__(self, in_channels: int, hidden_channels: int = 8) -> None:
        super().__init__()
        self.encoder = GINEncoder(in_channels, hidden_channels, 2)
        self.loss = InfoNCELoss(temperature=0.5)

    def embed(self, batch):
        return self.encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)

    def training_step(self, batch, generator=None):
        z1 = self.embed(batch)
        z2 = self.encoder(2 * batch.x, batch.edge_index, batch.batch, batch.num_graphs)
        return self.loss(z1, z2), z1


class TinyDataset(InMemoryDataset):
    def __init__(self) -> None:
        super().__init__()
        self.data, self.slices = self.collate(tiny_graphs(40))


def toy_dataset(name, root=None):
    return TinyDataset()


@pytest.mark.slow
def test_a_new_method_is_one_file_plus_one_registry_line(monkeypatch):
    monkeypatch.setitem(METHODS, "toy", MethodSpec(Toy, ("infonce",), 0.05, "linear",
                                                   toy_dataset))  # the registry line
    config = RunConfig(method="toy", dataset="tiny", sampler="proximity", epochs=1,
                       batch_size=8, num_candidates=10, num_neighbors=3, device="cpu")
    assert config.hidden_channels == 8 and "augmentation" not in config.settings()
    record = run(config, progress=False)
    assert record["method"] == "toy" and record["config"]["lr"] == 0.05
    assert len(record["fold_accuracies"]) == 10 and 0 <= record["accuracy_mean"] <= 100
    assert len(record["history"]) == 1 and "neg_cos_mean" in record["history"][0]


@pytest.mark.parametrize("kwargs", [dict(num_candidates=100),
                                    dict(num_candidates=100, num_neighbors=0.01)])
def test_counts_are_checked_as_the_sampler_checks_them_with_the_real_n(kwargs):
    # A count alone is no error without the dataset: the fraction it goes with resolves
    # against the real N (MUTAG: 188 graphs), as the Python API resolves it.
    config = RunConfig(sampler="proximity", **kwargs)
    ProximityBatchSampler(188, 128, **kwargs)
    config.check_size(188)
    assert config.build_sampler(188).num_items == 188
    with pytest.raises(ValueError) as sampler_error:
        ProximityBatchSampler(100_000, 128, **kwargs)
    with pytest.raises(ValueError) as config_error:
        config.check_size(100_000)
    assert str(config_error.value) == f"MUTAG has 100000 graphs: {sampler_error.value}"


def test_the_cli_names_table_matches_the_registries():
    from graphsampler.bench import names
    from graphsampler.precision import PRECISIONS
    assert names.METHOD_NAMES == tuple(METHODS)
    assert names.LOSSES == {name: spec.losses for name, spec in METHODS.items()}
    from graphsampler.bench import SAMPLERS
    assert names.SAMPLER_NAMES == tuple(SAMPLERS)
    assert names.PRECISIONS == tuple(PRECISIONS)


def test_a_drop_last_run_takes_a_last_batch_of_one_graph():
    with pytest.raises(ValueError, match=r"^MUTAG has 188 graphs: batch_size 187 leaves a "
                                         r"last batch of 1 graph"):
        RunConfig(batch_size=187).check_size(188)
    config = RunConfig(batch_size=187, drop_last=True)
    config.check_size(188)
    assert len(config.build_sampler(188)) == 1 and config.settings()["drop_last"] is True
    assert "drop_last" not in RunConfig().settings()  # the keys of existing results stay


def test_node_attributes_are_recorded_only_when_set():
    assert "node_attributes" not in RunConfig().settings()
    config = RunConfig(node_attributes=True)
    assert config.settings()["node_attributes"] is True
    assert config.key() != RunConfig().key()
    assert config.inapplicable(["node_attributes"]) is None
