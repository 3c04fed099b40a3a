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
* ``port``: the original script as a whole, ported to today's PyG (its ``GINConv``
  encoder, head, initialisation, ``loss_cal``, training loop, fixed batches, the
  augmentations above, ``model.eval()`` at epoch 20); only the dataset loader is ours.
  Evaluated with our SVM protocol and with the original's ``svc_classify``.
* ``sklearn_svm``: the baseline's weights through the original's ``svc_classify``
  (scikit-learn's ``GridSearchCV(SVC())``) instead of our SVM implementation.

What is the same (read, not measured): the loss (``loss_cal``: one direction, positive
left out of the denominator, T = 0.2), the encoder (GIN eps = 0, ReLU then BatchNorm,
sum pool of every layer), the head (Linear-ReLU-Linear, 96-d), Xavier-uniform init with
zero bias, Adam lr 0.01, MUTAG's 7 one-hot node labels as features, the SVM protocol
(SVC RBF, C in 1e-3..1e3, inner 5-fold grid search, outer stratified 10-fold with
shuffle; the original leaves the outer folds unseeded), the last epoch (20) evaluated.

The variants are defined in ``_mutag_variants.py``, the port of the original code in
``_mutag_original.py``; this script runs them and writes the report.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/mutag_gap.py --variants baseline,fixed --seeds 0-9
    python benchmarks/mutag_gap.py --report   # rewrite report.md from results.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _mutag_original import DATASET
from _mutag_variants import VARIANTS, run_one

from graphsampler.bench.provenance import device_name

OUT = Path(__file__).parent / "results" / "mutag_gap"


def import_original(path: Path) -> list[dict[str, Any]]:
    r"""Records from the original script's ``RESULT {json}`` lines (seed, and the
    ``val``/``test`` accuracies at epochs 10 and 20 that ``gsimclr.py`` logs)."""
    records = []
    for line in path.read_text().splitlines():
        if "RESULT " not in line:
            continue
        r = json.loads(line.split("RESULT ", 1)[1])
        records.append({"variant": "original_code", "seed": r["seed"], "dataset": DATASET,
                        "epochs": 20, "sampler": "fixed",
                        "acc_running": 100 * r["test"][-1], "acc_recal": float("nan"),
                        "acc_val": 100 * r["val"][-1], "acc_epoch10": 100 * r["test"][0],
                        "device": device_name(torch.device("cpu")),
                        "commit": "Shen-Lab/GraphCL unsupervised_TU (aug.py 500387939)",
                        "threads": 1})
    return records


# --- results and report ---

def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _ms(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return "–"
    return f"{a.mean():.2f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.2f}"


def report(records: list[dict[str, Any]], path: Path) -> None:
    by = {(r["variant"], r["seed"]): r for r in records}
    variants = [v for v in VARIANTS if any(k[0] == v for k in by)]
    commits = sorted({r["commit"] for r in records})
    devices = sorted({r["device"] for r in records})
    lines = [
        "# MUTAG: our GraphCL against the original code, one difference at a time",
        "",
        (f"GraphCL/InfoNCE, {DATASET}, 20 epochs, batch 128, lr 0.01, one thread. "
         f"Device: {', '.join(devices)}. Commit(s): {', '.join(commits)}. Written by "
         "`benchmarks/mutag_gap.py` from `results.jsonl`."),
        "",
        ("Each run is evaluated twice on the same weights: BatchNorm with training's "
         "running statistics (the original's `model.eval()`) and re-estimated on the "
         "clean graphs (our default). Δ: paired difference against `baseline` on the "
         "same seeds, mean ± std over seeds."),
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
        f32 = [r["acc_running_f32"] for r in base]
        f32_d = [r["acc_running_f32"] - r["acc_running"] for r in base]
        folds = [r["acc_running_folds+100"] for r in base]
        folds_d = [r["acc_running_folds+100"] - r["acc_running"] for r in base]
        lines += ["", (f"Evaluation-only checks on the baseline's weights (running "
                       f"statistics): float32 embeddings into the SVM {_ms(f32)}, Δ "
                       f"{_ms(f32_d)}; other outer folds (seed + 100) {_ms(folds)}, Δ "
                       f"{_ms(folds_d)}.")]
    port = [by[k] for k in by if k[0] == "port"]
    if port:
        lines += ["", ("`port` evaluates with training's running statistics only (the "
                       "original's `model.eval()`); its embeddings through the original's "
                       "own `svc_classify` (sklearn, same seeded folds): "
                       f"{_ms([r['acc_running_sklearn'] for r in port])}.")]
    notes = path.with_name("notes.md")  # the conclusion, written by hand from the table
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
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
    parser.add_argument("--import-original", type=Path, metavar="LOG",
                        help="append the original script's RESULT lines as original_code")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "results.jsonl"
    if args.import_original is not None:
        done = {(r["variant"], r["seed"]) for r in load(results)}
        with results.open("a") as f:
            for record in import_original(args.import_original):
                if ("original_code", record["seed"]) not in done:
                    f.write(json.dumps(record) + "\n")
    elif not args.report:
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
