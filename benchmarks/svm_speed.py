r"""Times :func:`graphsampler.eval.svm_cv` (``solver="fast"``) against the scikit-learn
reference (``solver="sklearn"``) in one process, on the same splits.

Cases (synthetic embeddings shaped like the paper suite's; ``make_classification``
with 20% of the labels redrawn, shifted and scaled like unscaled sum-pooled embeddings):

* ``linear-imdb-binary``: MVGRL-shaped, 1,000 x 512, 2 classes (``LinearSVC``).
* ``linear-imdb-multi``: 1,500 x 512, 3 classes.
* ``rbf-nci1``: GraphCL-shaped, 4,110 x 96, 2 classes (``SVC``, RBF).
* ``rbf-collab``: 5,000 x 96, 3 classes in COLLAB's proportions.
* ``rbf-imdb-multi-twins``: 1,500 x 96, 3 classes, with IMDB-MULTI's 1-WL twins: 685
  distinct rows, the other 815 copies of them (307 of one row, as IMDB-MULTI's largest
  twin group), a tenth of the copies with another label. The fast path fits identical
  rows as one weighted row; the reference fits every row.
* ``rbf-graphcl-imdb-multi`` (``-imdb-binary``, ``-collab``): real embeddings:
  GraphCL/InfoNCE trained for 20 epochs on that dataset with uniform batches (seed as
  ``--seed``; the dataset comes from ``$GRAPHSAMPLER_TU_MIRROR`` or is downloaded),
  embedded as the benchmark suite does.
* ``linear-mvgrl-imdb-binary`` (``-imdb-multi``): the same with MVGRL (JSD), 512 wide,
  scored with ``LinearSVC`` as MVGRL is.

Both runs use the 10-fold outer split and the 5-fold inner grid over
:math:`C \in \{10^{-3}, \dots, 10^{3}\}`; the fold accuracies and chosen :math:`C` go
side by side in the results, with whether liblinear's dual solver reached its iteration
cap (unconverged) on the largest :math:`C`. Time is CPU seconds of this process on one
thread (``torch.set_num_threads(1)``, ``n_jobs=1``), the fairest measure on a shared
machine.

Usage::

    python benchmarks/svm_speed.py --case linear-imdb-binary   # writes results/
    python benchmarks/svm_speed.py --quick                      # small, prints only
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import sklearn
import torch
from _helpers import RESULTS, provenance, write_results
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from graphsampler.eval import C_GRID, svm_cv

THIRD = (1 / 3, 1 / 3, 1 / 3)

# name: (kernel, rows, width, class weights, (copies, copies of the first row)); None:
# the embeddings of the method and dataset the name ends with
CASES = {
    "linear-imdb-binary": ("linear", 1000, 512, (0.5, 0.5), (0, 0)),
    "linear-imdb-multi": ("linear", 1500, 512, THIRD, (0, 0)),
    "rbf-nci1": ("rbf", 4110, 96, (0.5, 0.5), (0, 0)),
    "rbf-collab": ("rbf", 5000, 96, (0.52, 0.155, 0.325), (0, 0)),
    "rbf-imdb-multi-twins": ("rbf", 1500, 96, THIRD, (815, 307)),
    "rbf-graphcl-imdb-multi": ("rbf", 1500, 96, THIRD, None),
    "rbf-graphcl-imdb-binary": ("rbf", 1000, 96, (0.5, 0.5), None),
    "rbf-graphcl-collab": ("rbf", 5000, 96, (0.52, 0.155, 0.325), None),
    "linear-mvgrl-imdb-binary": ("linear", 1000, 512, (0.5, 0.5), None),
    "linear-mvgrl-imdb-multi": ("linear", 1500, 512, THIRD, None),
    "quick-linear": ("linear", 200, 512, (0.5, 0.5), (0, 0)),
    "quick-rbf": ("rbf", 300, 96, (0.5, 0.5), (100, 40)),
}


def make_embeddings(rows: int, width: int, weights: tuple[float, ...], seed: int,
                    copies: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    num_copies, of_first = copies
    distinct = rows - num_copies
    x, y = make_classification(distinct, width, n_informative=width // 8, n_redundant=0,
                               n_classes=len(weights), n_clusters_per_class=2,
                               weights=list(weights), flip_y=0.2, random_state=seed)
    gen = np.random.default_rng(seed)
    src = np.concatenate([np.zeros(of_first, dtype=int),
                          gen.integers(0, distinct, num_copies - of_first)])
    labels = np.where(gen.random(num_copies) < 0.1,
                      gen.integers(0, len(weights), num_copies), y[src])
    x, y = np.concatenate([x, x[src]]), np.concatenate([y, labels])
    return 3.0 * x + 5.0, y  # unscaled and off-centre, as sum-pooled embeddings are


def trained_embeddings(method_name: str, dataset: str,
                       seed: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The embeddings of ``dataset`` by ``method_name`` (its default loss) after 20
    epochs of uniform batches, as :func:`graphsampler.bench.run` evaluates them."""
    from graphsampler.bench.config import RunConfig
    from graphsampler.bench.registry import METHODS
    from graphsampler.data import IndexedDataset
    from graphsampler.embed import embed_dataset
    from graphsampler.train import seed_everything, train

    config = RunConfig(method=method_name, dataset=dataset, seed=seed, device="cpu")
    seed_everything(seed)
    data = IndexedDataset(METHODS[method_name].prepare(dataset, None))
    method = config.build_method(data.num_features)
    train(method, data, config.build_sampler(len(data)), epochs=config.epochs, lr=config.lr,
          seed=seed, progress=False, device="cpu")
    x, y = embed_dataset(method, data, recalibration_batch_size=config.batch_size, seed=seed,
                         device="cpu")
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def liblinear_capped(x: np.ndarray, y: np.ndarray, seed: int) -> bool:
    r"""Whether MVGRL's ``LinearSVC`` stops at ``max_iter`` at the largest C on the
    first outer training part."""
    train, _ = next(StratifiedKFold(10, shuffle=True, random_state=seed).split(x, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svc = LinearSVC(C=C_GRID[-1], dual=True, tol=1e-4, max_iter=1000,
                        random_state=seed).fit(x[train], y[train])
    return bool(np.max(svc.n_iter_) >= 1000)


def run_case(name: str, seed: int) -> dict[str, object]:
    kernel, rows, width, weights, copies = CASES[name]
    if copies is None:  # kernel-method-dataset
        _, method_name, dataset = name.split("-", 2)
        x, y = trained_embeddings(method_name, dataset.upper(), seed)
    else:
        x, y = make_embeddings(rows, width, weights, seed, copies)
    record: dict[str, object] = {"case": name, "kernel": kernel, "rows": rows,
                                 "width": width, "classes": len(weights),
                                 "distinct_rows": len(np.unique(np.c_[x, y], axis=0))}
    for solver in ("fast", "sklearn"):
        cpu = time.process_time()
        res = svm_cv(x, y, kernel, seed, n_jobs=1,
                     solver=solver)  # type: ignore[arg-type]
        record[solver] = {"cpu_s": time.process_time() - cpu, "mean": res.mean,
                          "std": res.std, "fold_accuracies": res.fold_accuracies,
                          "best_c": res.best_c}
    record["speedup_cpu"] = record["sklearn"]["cpu_s"] / record["fast"]["cpu_s"]
    record["mean_gap"] = record["fast"]["mean"] - record["sklearn"]["mean"]
    record["liblinear_capped"] = (liblinear_capped(x, y, seed) if kernel == "linear"
                                  else None)
    return record


def table(records: list[dict], prov: dict) -> list[str]:
    lines = ["# SVM evaluation speed: `svm_cv` fast vs scikit-learn (same splits)", "",
             f"CPU seconds of one process on {prov['threads']} thread(s) on "
             f"{prov['device']}; the machine was shared with other jobs (load average "
             f"{prov['load_average_1min']:.1f}). Commit {prov['commit']}, scikit-learn "
             f"{sklearn.__version__}, torch {prov['torch']}.", "",
             "| case | N x d | distinct rows | classes | fast CPU s | sklearn CPU s | "
             "speed-up | fast mean % | sklearn mean % | liblinear capped |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in records:
        lines.append(f"| {r['case']} | {r['rows']} x {r['width']} | "
                     f"{r['distinct_rows']} | {r['classes']} | "
                     f"{r['fast']['cpu_s']:.1f} | {r['sklearn']['cpu_s']:.1f} | "
                     f"{r['speedup_cpu']:.1f}x | {r['fast']['mean']:.2f} | "
                     f"{r['sklearn']['mean']:.2f} | {r['liblinear_capped']} |")
    lines.append("")
    for r in records:
        pairs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(
            r["fast"]["fold_accuracies"], r["sklearn"]["fold_accuracies"]))
        lines.append(f"- {r['case']} fold accuracies fast/sklearn: {pairs}; best C "
                     f"fast {r['fast']['best_c']}, sklearn {r['sklearn']['best_c']}")
    return lines


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases, print only")
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = ["quick-linear", "quick-rbf"] if args.quick else (
        args.case or ["linear-imdb-binary", "rbf-nci1"])
    records = [run_case(name, args.seed) for name in names]
    prov = provenance("cpu")
    lines = table(records, prov)
    if args.quick:
        print("\n".join(lines))
    else:
        stem = "svm_speed_" + "_".join(names)
        write_results(RESULTS, stem, {**prov, "seed": args.seed, "shared_machine": True,
                                      "records": records}, lines)
    return records


if __name__ == "__main__":
    main(sys.argv[1:])
