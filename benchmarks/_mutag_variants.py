r"""``mutag_gap.py``'s variants: what each one changes against our defaults, and one run
of a variant on one seed (training, then the evaluation under both normalisations)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from _mutag_original import (
    DATASET,
    OneHopSubgraph,
    OriginalView,
    StrippedView,
    all_self_loops,
    original_self_loops,
    original_svc_accuracy,
    run_port,
)
from torch_geometric.data import Data

from graphsampler.augment import DropNodes
from graphsampler.bench.config import RunConfig
from graphsampler.bench.provenance import device_name, git_commit
from graphsampler.bench.registry import METHODS
from graphsampler.data import IndexedDataset
from graphsampler.embed import embed_dataset
from graphsampler.eval.diagnostics import BatchHardness, TrainingCounts
from graphsampler.eval.svm import svm_cv
from graphsampler.train import seed_everything, train

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
    "port": "a port of the original's whole script (PyG GINConv, its loop, loss, fixed "
            "batches, NumPy augmentation, self-loops), no graphsampler code but the loader",
    "original_code": "the original gsimclr.py itself (aug.py 500387939), patched only to run "
                     "on PyG 2.8 (see notes.md); imported with --import-original",
    "sklearn_svm": "baseline's training, evaluated by the original's svc_classify "
                   "(GridSearchCV(SVC()) in StratifiedKFold(10, shuffle), folds seeded)",
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
    if variant == "original_code":
        raise SystemExit("original_code runs the original script outside this repository; "
                         "import its output with --import-original (see notes.md)")
    if variant == "port":
        record = run_port(seed)
        record.update(device=device_name(torch.device("cpu")), commit=git_commit(),
                      threads=torch.get_num_threads())
        return record
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
    for name, norm in (("running", "train"), ("recal", "clean")):
        method.load_state_dict(state)
        x, y = embed_dataset(method, dataset, device="cpu", norm=norm,
                             recalibration_batch_size=config.batch_size, seed=seed)
        if variant == "sklearn_svm":
            record[f"acc_{name}"] = original_svc_accuracy(x, y, seed)
            continue
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
