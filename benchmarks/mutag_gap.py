r"""Why is GraphCL/InfoNCE on MUTAG below the original code? One difference at a time.

Issue 20, item 3. Every variant trains GraphCL/InfoNCE on MUTAG (20 epochs, batch 128,
uniform batches unless the variant says otherwise) exactly as
:func:`graphsampler.bench.runner.run` does, changes *one* thing that differs from the
original code (Shen-Lab/GraphCL, ``unsupervised_TU``: ``gsimclr.py``, ``aug.py``,
``gin.py``, ``evaluate_embedding.py``), and evaluates the same weights two ways:
with training's running BatchNorm statistics (what the original does: ``model.eval()``)
and with the statistics re-estimated on the clean graphs (today's default). The
report gives mean ± std over seeds and the paired difference against ``baseline`` on
the same seeds.

The differences, as read in the original code:

* ``aug.py``'s ``get`` adds a self-loop to nodes ``0 .. max(edge_index) - 1`` of every
  graph (all but the last node). The clean view and the evaluation graphs keep them,
  so their GIN computes ``MLP(2 h_i + sum_j h_j)``; ``gsimclr.py`` removes self-loops
  from the augmented view after using them to decide which nodes survive (a node in no
  edge is dropped). Variants ``self_loops`` (that rule, our augmentations) and
  ``self_loops_all`` (a self-loop on every node of every view: GIN with eps = 1).
* ``subgraph``: ``idx_neigh.union(...)`` is not in place, so the view is the start node
  and up to ``int(0.2 n)`` of its direct neighbours; ours grows a connected 20%
  subgraph. Variant ``subgraph_1hop``.
* ``orig_aug``: the whole augmentation pipeline of the original, graph by graph in
  NumPy (self-loops, ``drop_nodes``, the 1-hop ``subgraph``, node removal, self-loop
  stripping). ``orig_aug_keep10``: the other stored version of ``aug.py`` (337d512),
  whose ``drop_nodes`` and ``subgraph`` zero the rows of the *kept* nodes, so a view
  keeps only the dropped 10% (or drops the subgraph).
* ``DataLoader(dataset.shuffle(), batch_size=128)``: one shuffle, the same batches
  every epoch. Variant ``fixed`` (our ``fixed`` sampler).
* ``original``: ``fixed`` and ``orig_aug`` together.

What is the same (read, not measured): the loss (``loss_cal``: one direction, positive
left out of the denominator, T = 0.2), the encoder (GIN eps = 0, ReLU then BatchNorm,
sum pool of every layer), the head (Linear-ReLU-Linear, 96-d), Xavier-uniform init with
zero bias, Adam lr 0.01, MUTAG's 7 one-hot node labels as features, the SVM protocol
(SVC RBF, C in 1e-3..1e3, inner 5-fold grid search, outer stratified 10-fold with
shuffle; the original leaves the outer folds unseeded), the last epoch (20) evaluated.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/mutag_gap.py --variants baseline,fixed --seeds 0-9
    python benchmarks/mutag_gap.py --report   # rewrite report.md from results.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphsampler.augment import DropNodes
from graphsampler.bench.config import RunConfig
from graphsampler.bench.provenance import device_name, git_commit
from graphsampler.bench.registry import METHODS
from graphsampler.callbacks import BatchHardness, TrainingCounts
from graphsampler.data import IndexedDataset
from graphsampler.eval.svm import svm_cv
from graphsampler.train import embed_dataset, seed_everything, train

OUT = Path(__file__).parent / "results" / "mutag_gap"
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


# --- the variants ---

VARIANTS: dict[str, str] = {
    "baseline": "ours at the defaults (uniform batches)",
    "fixed": "the same batches every epoch (one shuffle), as the original's DataLoader",
    "self_loops": "the original's self-loops: on the clean view and evaluation graphs, "
                  "stripped from the augmented view",
    "self_loops_all": "a self-loop on every node of every view (GIN with eps = 1)",
    "subgraph_1hop": "the original's subgraph (start node and direct neighbours)",
    "orig_aug": "the original's whole augmentation pipeline (self-loops, random2, "
                "node removal), graph by graph",
    "orig_aug_keep10": "as orig_aug with aug.py 337d512 (views keep the dropped 10%)",
    "original": "fixed + orig_aug",
    "ours_dropnodes": "our node dropping only (control for the subgraph's share)",
}


def _dataset(variant: str, base: Any) -> IndexedDataset:
    if variant in ("self_loops", "orig_aug", "orig_aug_keep10", "original"):
        graphs = [Data(x=g.x, edge_index=original_self_loops(g.edge_index), y=g.y)
                  for g in base]
        return IndexedDataset(graphs)
    if variant == "self_loops_all":
        graphs = [Data(x=g.x, edge_index=all_self_loops(g.edge_index, g.num_nodes), y=g.y)
                  for g in base]
        return IndexedDataset(graphs)
    return IndexedDataset(base)


def run_one(variant: str, seed: int) -> dict[str, Any]:
    sampler = "fixed" if variant in ("fixed", "original") else "uniform"
    augmentation = "dnodes" if variant == "ours_dropnodes" else "random2"
    config = RunConfig(dataset=DATASET, sampler=sampler, seed=seed, epochs=20,
                       augmentation=augmentation, device="cpu")
    seed_everything(seed)
    spec = METHODS[config.method]
    base = spec.prepare(config.dataset, config.data_root)
    num_features = base.num_features
    dataset = _dataset(variant, base)
    method = config.build_method(num_features)
    if variant == "self_loops":
        method.second_view = StrippedView(method.second_view)
    elif variant in ("orig_aug", "original"):
        method.second_view = OriginalView(seed)
    elif variant == "orig_aug_keep10":
        method.second_view = OriginalView(seed, keep10=True)
    elif variant == "subgraph_1hop":
        method.second_view = OneHopSubgraph(seed, DropNodes(0.1))
    result = train(method, dataset, config.build_sampler(len(dataset)), epochs=config.epochs,
                   lr=config.lr, device="cpu", seed=seed, progress=False,
                   callbacks=[BatchHardness(), TrainingCounts(len(dataset))])
    record: dict[str, Any] = {"variant": variant, "seed": seed, "dataset": DATASET,
                              "epochs": config.epochs, "sampler": sampler,
                              "train_seconds": result.seconds,
                              "final_loss": result.history[-1]["loss"]}
    state = {k: v.clone() for k, v in method.state_dict().items()}
    for name, recalibrate in (("running", False), ("recal", True)):
        method.load_state_dict(state)
        x, y = embed_dataset(method, dataset, device="cpu", recalibrate=recalibrate,
                             recalibration_batch_size=config.batch_size, seed=seed)
        scores = svm_cv(x, y, kernel=spec.eval_kernel, seed=seed)
        record[f"acc_{name}"] = float(scores.mean)
        record[f"fold_std_{name}"] = float(scores.std)
        if variant == "baseline" and name == "running":
            # evaluation-only checks on the same embeddings: float32 input to the SVM,
            # and other outer folds (the original leaves them unseeded)
            x32 = x.astype(np.float32).astype(np.float64)
            record["acc_running_f32"] = float(svm_cv(x32, y, kernel="rbf", seed=seed).mean)
            record["acc_running_folds+100"] = float(
                svm_cv(x, y, kernel="rbf", seed=seed + 100).mean)
    record.update(device=device_name(torch.device("cpu")), commit=git_commit(),
                  threads=torch.get_num_threads())
    return record


# --- results and report ---

def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _ms(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{a.mean():.2f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.2f}"


def report(records: list[dict[str, Any]], path: Path) -> None:
    by = {(r["variant"], r["seed"]): r for r in records}
    variants = [v for v in VARIANTS if any(k[0] == v for k in by)]
    commits = sorted({r["commit"] for r in records})
    devices = sorted({r["device"] for r in records})
    lines = [
        "# MUTAG: our GraphCL against the original code, one difference at a time",
        "",
        f"GraphCL/InfoNCE, {DATASET}, 20 epochs, batch 128, lr 0.01, one thread. "
        f"Device: {', '.join(devices)}. Commit(s): {', '.join(commits)}. Written by "
        "`benchmarks/mutag_gap.py` from `results.jsonl`.",
        "",
        "Each run is evaluated twice on the same weights: BatchNorm with training's "
        "running statistics (the original's `model.eval()`) and re-estimated on the "
        "clean graphs (our default). Δ: paired difference against `baseline` on the "
        "same seeds, mean ± std over seeds.",
        "",
        "| variant | seeds | running stats | Δ | re-estimated | Δ | what changes |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in variants:
        seeds = sorted(s for (w, s) in by if w == v)
        paired = [s for s in seeds if ("baseline", s) in by]
        cells = []
        for key in ("acc_running", "acc_recal"):
            vals = [by[(v, s)][key] for s in seeds]
            d = [by[(v, s)][key] - by[("baseline", s)][key] for s in paired]
            cells += [_ms(vals), _ms(d) if v != "baseline" and d else "–"]
        lines.append(f"| {v} | {_seed_text(seeds)} | {cells[0]} | {cells[1]} | {cells[2]} "
                     f"| {cells[3]} | {VARIANTS[v]} |")
    base = [by[k] for k in by if k[0] == "baseline"]
    if base and "acc_running_f32" in base[0]:
        lines += ["", "Evaluation-only checks on the baseline's weights (running "
                  "statistics): float32 embeddings into the SVM "
                  f"{_ms([r['acc_running_f32'] for r in base])}, Δ "
                  f"{_ms([r['acc_running_f32'] - r['acc_running'] for r in base])}; other "
                  f"outer folds (seed + 100) {_ms([r['acc_running_folds+100'] for r in base])}"
                  f", Δ {_ms([r['acc_running_folds+100'] - r['acc_running'] for r in base])}."]
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def _parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="baseline",
                        help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--report", action="store_true", help="only rewrite report.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "results.jsonl"
    if not args.report:
        done = {(r["variant"], r["seed"]) for r in load(results)}
        for variant in args.variants.split(","):
            if variant not in VARIANTS:
                raise SystemExit(f"unknown variant {variant!r}; choose from {list(VARIANTS)}")
            for seed in _parse_seeds(args.seeds):
                if (variant, seed) in done:
                    continue
                tic = time.perf_counter()
                record = run_one(variant, seed)
                with results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(f"{variant} seed {seed}: running {record['acc_running']:.2f}, "
                      f"re-estimated {record['acc_recal']:.2f} "
                      f"({time.perf_counter() - tic:.1f} s)", flush=True)
    report(load(results), OUT / "report.md")


if __name__ == "__main__":
    main()
