r"""``mutag_gap.py``'s port of the original GraphCL code (Shen-Lab/GraphCL,
``unsupervised_TU``): its graph handling and augmentations (``aug.py``, ``gsimclr.py``),
its SVM evaluation (``evaluate_embedding.py``'s ``svc_classify``), and the whole script
ported to today's PyG (the ``port`` variant)."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import SVC
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv, global_add_pool

from graphsampler.bench.registry import METHODS
from graphsampler.eval.svm import svm_cv

DATASET = "MUTAG"


# --- the original's graph handling, written from unsupervised_TU/aug.py and gsimclr.py ---

def original_self_loops(edge_index: Tensor) -> Tensor:
    r"""``aug.py``'s ``get``: a self-loop on nodes ``0 .. edge_index.max() - 1``."""
    top = int(edge_index.max())
    loops = torch.arange(top, dtype=edge_index.dtype).expand(2, -1)
    return torch.cat([edge_index, loops], dim=1)


def all_self_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    loops = torch.arange(num_nodes, dtype=edge_index.dtype).expand(2, -1)
    return torch.cat([edge_index, loops], dim=1)


def _restrict(edge_index: np.ndarray, n: int, zeroed: np.ndarray) -> np.ndarray:
    r"""The dense adjacency with the rows and columns ``zeroed`` cleared, as edges
    (``adj.nonzero().t()``: deduplicated, sorted)."""
    adj = np.zeros((n, n), dtype=bool)
    adj[edge_index[0], edge_index[1]] = True
    adj[zeroed, :] = False
    adj[:, zeroed] = False
    return np.stack(np.nonzero(adj))


def orig_drop_nodes(edge_index: np.ndarray, n: int, rng: np.random.RandomState,
                    keep10: bool) -> np.ndarray:
    idx_drop = rng.choice(n, int(n / 10), replace=False)
    idx_nondrop = np.array([i for i in range(n) if i not in idx_drop], dtype=np.int64)
    return _restrict(edge_index, n, idx_nondrop if keep10 else idx_drop)


def orig_subgraph(edge_index: np.ndarray, n: int, rng: np.random.RandomState,
                  keep10: bool) -> np.ndarray:
    sub_num = int(n * 0.2)
    idx_sub = [rng.randint(n, size=1)[0]]
    idx_neigh = set(edge_index[1][edge_index[0] == idx_sub[0]])
    count = 0
    while len(idx_sub) <= sub_num:
        count += 1
        if count > n or not idx_neigh:
            break
        sample = rng.choice(list(idx_neigh))
        if sample in idx_sub:
            continue
        idx_sub.append(sample)  # the original's idx_neigh.union(...) is discarded
    idx_drop = np.array([i for i in range(n) if i not in idx_sub], dtype=np.int64)
    idx_sub_arr = np.array(idx_sub, dtype=np.int64)
    return _restrict(edge_index, n, idx_sub_arr if keep10 else idx_drop)


def strip_view(x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
    r"""``gsimclr.py``'s training loop on the augmented view: nodes in no edge are
    removed, the rest relabelled, self-loops removed."""
    covered = torch.zeros(x.size(0), dtype=torch.bool)
    covered[edge_index.reshape(-1)] = True
    new_id = torch.cumsum(covered, 0) - 1
    edge_index = new_id[edge_index]
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return x[covered], edge_index


def _collate(graphs: list[tuple[Tensor, Tensor]]) -> SimpleNamespace:
    xs, edges, owner, offset = [], [], [], 0
    for g, (x, edge_index) in enumerate(graphs):
        xs.append(x)
        edges.append(edge_index + offset)
        owner.append(torch.full((x.size(0),), g, dtype=torch.long))
        offset += x.size(0)
    return SimpleNamespace(x=torch.cat(xs), edge_index=torch.cat(edges, 1).contiguous(),
                           batch=torch.cat(owner), num_graphs=len(graphs))


def _graphs(batch: Any) -> list[tuple[Tensor, Tensor]]:
    ptr = batch.ptr.tolist()
    src = batch.batch[batch.edge_index[0]]
    out = []
    for g in range(batch.num_graphs):
        e = batch.edge_index[:, src == g] - ptr[g]
        out.append((batch.x[ptr[g]:ptr[g + 1]], e))
    return out


class StrippedView:
    r"""Our batched augmentation, then the original's node removal and self-loop
    stripping, graph by graph."""

    def __init__(self, aug: Callable) -> None:
        self.aug = aug

    def __call__(self, batch: Any, generator: torch.Generator | None = None) -> Any:
        view = self.aug(batch, generator)
        return _collate([strip_view(x, e) for x, e in _graphs(view)])


class OriginalView:
    r"""The original's ``random2`` graph by graph in NumPy (on graphs that carry the
    original's self-loops), then its node removal and self-loop stripping."""

    def __init__(self, seed: int, keep10: bool = False, only: str | None = None) -> None:
        self.rng = np.random.RandomState(seed)
        self.keep10 = keep10
        self.only = only

    def __call__(self, batch: Any, generator: torch.Generator | None = None) -> Any:
        views = []
        for x, e in _graphs(batch):
            n = x.size(0)
            choice = self.rng.randint(2)
            if self.only == "subgraph":
                choice = 1
            fn = orig_drop_nodes if choice == 0 else orig_subgraph
            new_e = torch.from_numpy(fn(e.numpy(), n, self.rng, self.keep10)).long()
            views.append(strip_view(x, new_e))
        return _collate(views)


class OneHopSubgraph:
    r"""Our ``random2`` with the original's 1-hop ``subgraph`` in place of ours (no
    self-loops anywhere): per graph, node dropping (ours) or the 1-hop subgraph."""

    def __init__(self, seed: int, ours: Callable) -> None:
        self.rng = np.random.RandomState(seed)
        self.ours = ours

    def __call__(self, batch: Any, generator: torch.Generator | None = None) -> Any:
        dropped = _graphs(self.ours(batch, generator))
        views = []
        for g, (x, e) in enumerate(_graphs(batch)):
            if self.rng.randint(2) == 0:
                views.append(dropped[g])
                continue
            n = x.size(0)
            # the original's start node has a self-loop, so it is its own neighbour
            e_loops = all_self_loops(e, n).numpy()
            kept = orig_subgraph(e_loops, n, self.rng, keep10=False)
            views.append(strip_view(x, torch.from_numpy(kept).long()))
        return _collate(views)


def original_svc_accuracy(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    r"""``evaluate_embedding.py``'s ``svc_classify`` test accuracy (its outer folds,
    unseeded there, seeded here)."""
    accuracies = []
    for train_idx, test_idx in StratifiedKFold(10, shuffle=True, random_state=seed).split(x, y):
        grid = GridSearchCV(SVC(), {"C": [0.001, 0.01, 0.1, 1, 10, 100, 1000]}, cv=5,
                            scoring="accuracy")
        grid.fit(x[train_idx], y[train_idx])
        accuracies.append(accuracy_score(y[test_idx], grid.predict(x[test_idx])))
    return 100.0 * float(np.mean(accuracies))


# --- the original script, ported ---

class _PortEncoder(torch.nn.Module):
    def __init__(self, num_features: int, dim: int = 32, layers: int = 3) -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList()
        self.bns = torch.nn.ModuleList()
        for i in range(layers):
            mlp = torch.nn.Sequential(torch.nn.Linear(dim if i else num_features, dim),
                                      torch.nn.ReLU(), torch.nn.Linear(dim, dim))
            self.convs.append(GINConv(mlp))
            self.bns.append(torch.nn.BatchNorm1d(dim))

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor) -> Tensor:
        pooled = []
        for conv, bn in zip(self.convs, self.bns):
            x = bn(torch.relu(conv(x, edge_index)))
            pooled.append(global_add_pool(x, batch))
        return torch.cat(pooled, 1)


class _PortModel(torch.nn.Module):
    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.encoder = _PortEncoder(num_features)
        self.proj_head = torch.nn.Sequential(torch.nn.Linear(96, 96), torch.nn.ReLU(),
                                             torch.nn.Linear(96, 96))
        for m in self.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor) -> Tensor:
        return self.proj_head(self.encoder(x, edge_index, batch))


def _port_loss(x: Tensor, x_aug: Tensor, t: float = 0.2) -> Tensor:
    sim = (x @ x_aug.t()) / torch.outer(x.norm(dim=1), x_aug.norm(dim=1))
    sim = torch.exp(sim / t)
    pos = sim.diagonal()
    return -torch.log(pos / (sim.sum(dim=1) - pos)).mean()


def run_port(seed: int) -> dict[str, Any]:
    r"""The original script's training and evaluation, ported to today's PyG."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    base = METHODS["graphcl"].prepare(DATASET, None)
    graphs = [Data(x=g.x, edge_index=original_self_loops(g.edge_index), y=g.y) for g in base]
    order = torch.randperm(len(graphs)).tolist()  # dataset.shuffle(), once
    train_set = [graphs[i] for i in order]
    eval_set = [graphs[i] for i in torch.randperm(len(graphs)).tolist()]
    model = _PortModel(base.num_features)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    tic = time.perf_counter()
    for _epoch in range(20):
        model.train()
        for start in range(0, len(train_set), 128):
            items = train_set[start:start + 128]
            augs = []
            for g in items:  # the dataset's __getitem__: random2 on a copy
                n = g.x.size(0)
                fn = orig_drop_nodes if np.random.randint(2) == 0 else orig_subgraph
                e = fn(g.edge_index.numpy(), n, np.random, False)  # global, as aug.py
                augs.append(Data(x=g.x, edge_index=torch.from_numpy(e).long()))
            data, data_aug = Batch.from_data_list(items), Batch.from_data_list(augs)
            optimizer.zero_grad()
            x = model(data.x, data.edge_index, data.batch)
            edge = data_aug.edge_index
            covered = torch.zeros(data.x.size(0), dtype=torch.bool)
            covered[edge.reshape(-1)] = True
            relabel = torch.cumsum(covered, 0) - 1
            edge = relabel[edge]
            edge = edge[:, edge[0] != edge[1]]
            x_aug = model(data_aug.x[covered], edge, data.batch[covered])
            loss = _port_loss(x, x_aug)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - tic
    model.eval()
    with torch.no_grad():
        full = Batch.from_data_list(eval_set)
        emb = model.encoder(full.x, full.edge_index, full.batch).double().numpy()
    y = full.y.numpy()
    return {"variant": "port", "seed": seed, "dataset": DATASET, "epochs": 20,
            "sampler": "fixed", "train_seconds": seconds, "final_loss": float(loss),
            "acc_running": float(svm_cv(emb, y, kernel="rbf", seed=seed).mean),
            "acc_running_sklearn": original_svc_accuracy(emb, y, seed),
            "acc_recal": float("nan")}
