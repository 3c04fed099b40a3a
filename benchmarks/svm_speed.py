r"""Times :func:`graphsampler.eval.svm_cv` against the plain scikit-learn protocol.

The data are synthetic COLLAB-sized embeddings: ``make_classification`` with 5,000 rows,
96 features (GraphCL's embedding width), 3 classes in COLLAB's proportions
(2,600 / 775 / 1,625), 2 Gaussian clusters per class, 20% of the labels redrawn at
random (an RBF SVM then scores about 73%, near GraphCL's 71% on COLLAB). Both runs use
the same 10-fold outer split and 5-fold inner grid search over
:math:`C \in \{10^{-3}, \dots, 10^{3}\}`; the script asserts identical fold accuracies
and chosen :math:`C`, and reports the speed-up of ``svm_cv`` on one thread and on all
cores.

Usage::

    python benchmarks/svm_speed.py            # full size, writes benchmarks/results/
    python benchmarks/svm_speed.py --quick    # 1,000 rows, prints only

The plain reference is the loop GraphCL's ``evaluate_embedding.py`` runs:
``GridSearchCV(SVC(), {"C": grid}, cv=5)`` inside ``StratifiedKFold(10, shuffle=True)``.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import sklearn
import torch
from sklearn.base import ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import SVC, LinearSVC

from graphsampler.eval import C_GRID, svm_cv

COLLAB_CLASS_SIZES = (2600, 775, 1625)
RESULTS = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


def make_embeddings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    weights = [s / sum(COLLAB_CLASS_SIZES) for s in COLLAB_CLASS_SIZES]
    return make_classification(n_samples=n, n_features=96, n_informative=24,
                               n_redundant=24, n_classes=3, n_clusters_per_class=2,
                               weights=weights, class_sep=1.0, flip_y=0.2,
                               random_state=seed)


def reference_estimator(kernel: str, seed: int) -> ClassifierMixin:
    if kernel == "rbf":
        return SVC(kernel="rbf", gamma="scale")  # GraphCL: SVC()
    # MVGRL: LinearSVC() under scikit-learn 0.21.3, seeded for reproducibility
    return LinearSVC(dual=True, tol=1e-4, max_iter=1000, random_state=seed)


def plain_sklearn(x: np.ndarray, y: np.ndarray, kernel: str,
                  seed: int) -> tuple[list[float], list[float]]:
    accuracies, best_c = [], []
    for train, test in StratifiedKFold(10, shuffle=True, random_state=seed).split(x, y):
        search = GridSearchCV(reference_estimator(kernel, seed), {"C": list(C_GRID)},
                              cv=5, scoring="accuracy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(x[train], y[train])
        accuracies.append(100.0 * accuracy_score(y[test], search.predict(x[test])))
        best_c.append(search.best_params_["C"])
    return accuracies, best_c


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    return {"device": "cpu", "cpu_model": cpu, "cores": len(os.sched_getaffinity(0)),
            "commit": git("rev-parse", "HEAD") or "uncommitted",
            # the code measured differs from that commit when this is false
            "code_committed": git("status", "--porcelain", "--", ":/graphsampler",
                                  ":/benchmarks/svm_speed.py") == "",
            "python": platform.python_version(),
            "torch": torch.__version__, "sklearn": sklearn.__version__,
            "numpy": np.__version__}


def git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def timed(fn: Callable[[], T]) -> tuple[T, dict[str, float]]:
    r"""Runs ``fn``; its wall time, the CPU time of this process (all threads) and the
    1-minute load average after it (other jobs on the machine inflate wall times)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                 "load_after": load_average()}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1,000 rows; print only, write no results")
    parser.add_argument("--n", type=int, default=None, help="rows (default 5000)")
    parser.add_argument("--kernel", choices=["rbf", "linear"], default="rbf")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = args.n or (1000 if args.quick else 5000)
    x, y = make_embeddings(n, args.seed)
    load_before = load_average()

    (ref_acc, ref_c), ref = timed(lambda: plain_sklearn(x, y, args.kernel, args.seed))
    runs = {"plain_sklearn": ref}
    print(f"plain scikit-learn: {ref['wall_s']:.1f} s wall, {ref['cpu_s']:.1f} s CPU, "
          f"{np.mean(ref_acc):.2f} %")
    for label, n_jobs in (("svm_cv_1_job", 1), ("svm_cv_all_cores", None)):
        res, runs[label] = timed(lambda: svm_cv(x, y, args.kernel, args.seed,
                                                n_jobs=n_jobs))
        if res.fold_accuracies != ref_acc or res.best_c != ref_c:
            raise SystemExit(f"{label} differs from scikit-learn:\n"
                             f"  {res.fold_accuracies} C={res.best_c}\n"
                             f"  {ref_acc} C={ref_c}")
        print(f"{label}: {runs[label]['wall_s']:.1f} s wall, "
              f"{runs[label]['cpu_s']:.1f} s CPU, "
              f"{ref['wall_s'] / runs[label]['wall_s']:.2f}x faster (wall)")

    record = {
        **machine(),
        "data": (f"make_classification(n_samples={n}, n_features=96, n_informative=24, "
                 f"n_redundant=24, n_classes=3, n_clusters_per_class=2, "
                 f"weights=COLLAB {COLLAB_CLASS_SIZES}, class_sep=1.0, flip_y=0.2, "
                 f"random_state={args.seed})"),
        "n": n, "d": 96, "classes": 3, "kernel": args.kernel, "seed": args.seed,
        "protocol": {"folds": 10, "inner_folds": 5, "c_grid": list(C_GRID)},
        "load_before": load_before,
        "runs": runs,
        "speedup_wall": {k: ref["wall_s"] / v["wall_s"] for k, v in runs.items()},
        "speedup_cpu_1_job": ref["cpu_s"] / runs["svm_cv_1_job"]["cpu_s"],
        "identical_fold_accuracies": True,
        "fold_accuracies": ref_acc, "best_c": ref_c,
        "mean": float(np.mean(ref_acc)), "std": float(np.std(ref_acc)),
    }
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "svm_speed.json").write_text(json.dumps(record, indent=2) + "\n")
        (RESULTS / "svm_speed.md").write_text(markdown(record))
    return record


def markdown(r: dict) -> str:
    rows = "".join(
        f"| {name} | {run['wall_s']:.1f} | {run['cpu_s']:.1f} | "
        f"{r['speedup_wall'][key]:.2f}x | {run['load_after']:.1f} |\n"
        for key, name, run in (
            ("plain_sklearn", "plain scikit-learn (GridSearchCV in StratifiedKFold)",
             r["runs"]["plain_sklearn"]),
            ("svm_cv_1_job", "`svm_cv`, n_jobs=1", r["runs"]["svm_cv_1_job"]),
            ("svm_cv_all_cores", f"`svm_cv`, all {r['cores']} cores",
             r["runs"]["svm_cv_all_cores"])))
    return (
        f"# SVM evaluation speed ({r['kernel']}, {r['n']} x {r['d']}, "
        f"{r['classes']} classes)\n\n"
        f"{r['cpu_model']}, {r['cores']} cores, commit {r['commit']}"
        f"{'' if r['code_committed'] else ' plus uncommitted changes'}, "
        f"scikit-learn {r['sklearn']}, torch {r['torch']}; 10-fold CV, inner 5-fold "
        f"grid over C in 1e-3..1e3. Data: `{r['data']}`.\n\n"
        f"| run | wall s | CPU s | speed-up (wall) | load avg after |\n"
        f"|---|---:|---:|---:|---:|\n{rows}\n"
        f"Single-thread CPU-time speed-up: {r['speedup_cpu_1_job']:.2f}x. "
        f"Load average before: {r['load_before']:.1f} (other jobs shared the machine "
        f"when it is above 0). Identical fold accuracies (mean {r['mean']:.2f} +- "
        f"{r['std']:.2f} %): {', '.join(f'{a:.1f}' for a in r['fold_accuracies'])}.\n"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
