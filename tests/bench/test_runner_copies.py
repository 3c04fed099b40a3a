import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset

from graphsampler.bench import METHODS, RunConfig, run
from graphsampler.bench.registry import MethodSpec
from graphsampler.methods.graphcl import GraphCL
from graphsampler.samplers import ProximityBatchSampler


class Shapes(InMemoryDataset):
    r"""Stars and cycles of 3 to 8 nodes, unlabelled: 12 isomorphism classes, 5 each."""

    def __init__(self) -> None:
        super().__init__()
        graphs = []
        for i in range(60):
            n = 3 + i % 6
            src = torch.arange(n) if i % 12 < 6 else torch.zeros(n - 1, dtype=torch.long)
            dst = (src + 1) % n if i % 12 < 6 else torch.arange(1, n)
            graphs.append(Data(x=torch.ones(n, 1), y=torch.tensor([i % 2]),
                               edge_index=torch.stack([torch.cat([src, dst]),
                                                       torch.cat([dst, src])])))
        self._data, self.slices = self.collate(graphs)


@pytest.mark.slow
def test_the_runner_hands_copy_ids_to_the_loss_and_the_sampler(monkeypatch):
    spec = METHODS["graphcl"]
    monkeypatch.setitem(METHODS, "graphcl", MethodSpec(
        spec.model, spec.losses, spec.lr, spec.eval_kernel, lambda name, root: Shapes()))
    given, passed = [], []
    set_ids, groups = ProximityBatchSampler.set_copy_ids, GraphCL._copy_groups
    monkeypatch.setattr(ProximityBatchSampler, "set_copy_ids",
                        lambda self, ids: given.append(ids) or set_ids(self, ids))

    def spy(self, batch):
        passed.append((batch.sample_idx, groups(self, batch)))
        return passed[-1][1]

    monkeypatch.setattr(GraphCL, "_copy_groups", spy)
    config = RunConfig(dataset="shapes", sampler="proximity", epochs=2, batch_size=8,
                       num_candidates=20, num_neighbors=4, device="cpu",
                       exclude_copies=True, dedupe_copies=True)
    record = run(config, progress=False)
    expected = torch.arange(60) % 12  # graph i is a copy of graph i mod 12
    assert len(given) == 1 and torch.equal(given[0], expected)
    assert len(passed) == 2 * 8  # every step of both epochs
    assert all(torch.equal(g, expected[idx]) for idx, g in passed)
    # the second epoch is grown by walks that keep one graph per class
    assert all(len(set(g.tolist())) == len(g) for _, g in passed[8:])
    assert record["config"]["exclude_copies"] and record["config"]["dedupe_copies"]
    off = RunConfig(dataset="shapes", sampler="proximity", epochs=1, batch_size=8,
                    num_candidates=20, num_neighbors=4, device="cpu")
    passed.clear()
    run(off, progress=False)
    assert len(given) == 1 and passed and all(g is None for _, g in passed)
