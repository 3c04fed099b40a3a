import copy
import os
import pickle
import subprocess
import sys

import pytest

os.environ.setdefault("DGLBACKEND", "pytorch")  # no backend notice, no ~/.dgl/config.json
dgl = pytest.importorskip("dgl")

import torch  # noqa: E402
from dgl.dataloading import GraphDataLoader  # noqa: E402
from dgl.nn import GINConv, SumPooling  # noqa: E402
from synthetic import tiny_graphs  # noqa: E402
from torch_geometric.utils import to_dgl  # noqa: E402

from graphsampler.data import IndexedDGLDataset  # noqa: E402
from graphsampler.losses import InfoNCELoss  # noqa: E402
from graphsampler.samplers import (  # noqa: E402
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
)

N, B = 40, 8


def dgl_pairs(n: int = N) -> list[tuple[dgl.DGLGraph, torch.Tensor]]:
    return [(to_dgl(d), d.y) for d in tiny_graphs(n)]


def make(kind: str):
    if kind == "uniform":
        return UniformBatchSampler(N, B, seed=1)
    if kind == "knn":
        return KNNBatchSampler(N, B, seed=1, warmup_epochs=0)
    return ProximityBatchSampler(N, B, seed=1, num_candidates=20, num_neighbors=5,
                                 warmup_epochs=0)


def test_items_carry_their_index():
    pairs = dgl_pairs(6)
    ds = IndexedDGLDataset(pairs)
    assert len(ds) == 6
    for i in range(6):
        graph, y, index = ds[i]
        assert graph is pairs[i][0] and y is pairs[i][1] and index == i
    assert ds[-1][2] == 5 and ds[torch.tensor(2)][2] == 2
    clone = pickle.loads(pickle.dumps(ds))
    assert clone[3][2] == 3 and clone[3][0].num_nodes() == pairs[3][0].num_nodes()


def test_rejects_items_that_are_not_graph_label_pairs():
    data = tiny_graphs(2)
    with pytest.raises(TypeError, match=r"\(DGLGraph, label\) pairs, item 0 is Data; "
                                        r"convert PyG graphs with torch_geometric.utils.to_dgl"):
        IndexedDGLDataset(data)[0]
    with pytest.raises(TypeError, match=r"item 1 is \(Data, Tensor\)"):
        IndexedDGLDataset([(d, d.y) for d in data])[1]
    with pytest.raises(ValueError, match=r"needs a dataset with __getitem__ and __len__.*got int"):
        IndexedDGLDataset(3)


def test_missing_dgl_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dgl", None)  # `import dgl` now fails as if absent
    with pytest.raises(ModuleNotFoundError,
                       match=r"DGL support needs dgl .*pip install 'graphsampler\[dgl\]'"):
        IndexedDGLDataset([])


def test_importing_graphsampler_does_not_import_dgl():
    code = "import sys, graphsampler, graphsampler.data; print('dgl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("kind", ["uniform", "knn", "proximity"])
def test_graph_data_loader_yields_the_sampler_batches(kind):
    pairs = dgl_pairs()
    sampler = make(kind)
    sampler.update(torch.arange(N), torch.randn(N, 4, generator=torch.Generator().manual_seed(0)))
    oracle = copy.deepcopy(sampler)
    expected = list(oracle)
    loader = GraphDataLoader(IndexedDGLDataset(pairs), batch_sampler=sampler)
    assert len(loader) == len(expected) == 5

    seen = list(loader)

    assert len(seen) == len(expected)
    for (graph, y, idx), want in zip(seen, expected):
        assert idx.dtype == torch.long and idx.tolist() == want
        assert y.view(-1).tolist() == [pairs[i][1].item() for i in want]
        assert graph.batch_num_nodes().tolist() == [pairs[i][0].num_nodes() for i in want]
    if kind != "uniform":
        assert sampler.stats["graph_builds"] == 1 and "uniform" not in sampler.stats


class TinyGIN(torch.nn.Module):
    def __init__(self, in_channels: int, hidden: int = 16) -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList([
            GINConv(torch.nn.Sequential(torch.nn.Linear(c, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, hidden)), "sum")
            for c in (in_channels, hidden)
        ])
        self.pool = SumPooling()
        self.head = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, hidden))

    def forward(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = conv(graph, x).relu()
        return self.head(self.pool(graph, x))


def test_dgl_gin_trains_with_proximity_batches_and_infonce():
    torch.manual_seed(0)
    ds = IndexedDGLDataset(dgl_pairs())
    sampler = ProximityBatchSampler(N, B, seed=0, num_candidates=20, num_neighbors=5)
    loader = GraphDataLoader(ds, batch_sampler=sampler)
    model = TinyGIN(in_channels=3)
    loss_fn = InfoNCELoss(temperature=0.2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    before = [p.detach().clone() for p in model.parameters()]

    def drop_nodes(x: torch.Tensor) -> torch.Tensor:  # a view: zero 20% of node features
        return x * (torch.rand(x.size(0), 1) > 0.2)

    def run_epoch() -> tuple[list[list[int]], list[float]]:
        batches, losses = [], []
        for graph, _, idx in loader:
            x = graph.ndata["x"]
            z1, z2 = model(graph, drop_nodes(x)), model(graph, drop_nodes(x))
            loss = loss_fn(z1, z2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            sampler.update(idx, z1.detach())
            batches.append(idx.tolist())
            losses.append(loss.item())
        return batches, losses

    run_epoch()  # warm-up: uniform batches that fill the bank
    assert sampler.bank.is_full and sampler.ready
    oracle = ProximityBatchSampler(N, B, seed=0, num_candidates=20, num_neighbors=5)
    oracle.load_state_dict(copy.deepcopy(sampler.state_dict()))

    batches, losses = run_epoch()

    assert batches == list(oracle)
    assert sampler.stats["graph_builds"] == 1 and "uniform" not in sampler.stats
    assert all(len(set(b)) == B for b in batches)  # B distinct graphs per walk
    assert all(torch.isfinite(torch.tensor(losses)))
    assert any(not torch.equal(p, q) for p, q in zip(before, model.parameters()))
