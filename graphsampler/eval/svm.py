r"""The SVM cross-validation protocol that scores frozen graph embeddings.

GraphCL (``unsupervised_TU/evaluate_embedding.py``, ``svc_classify``) and MVGRL
(``graph/train.py``) both score embeddings with a nested cross-validation:
10-fold stratified outer CV (shuffled), and inside each outer fold a
``GridSearchCV(..., {"C": [1e-3, ..., 1e3]}, cv=5, scoring="accuracy")`` on the training
part, refit with the best :math:`C`, accuracy on the held-out fold. Neither scales or
centres the embeddings. :func:`svm_cv` runs that protocol with the splits and the
tie-breaking of scikit-learn's ``GridSearchCV``, only faster:

* ``"rbf"`` (GraphCL: ``SVC()``, i.e. RBF with ``gamma="scale"``): the squared distances
  of all :math:`N` rows are computed once; each split turns them into its RBF kernel
  :math:`\exp(-\gamma D)`, with :math:`\gamma = 1 / (d \cdot \mathrm{Var}(X_{train}))` as
  ``gamma="scale"`` computes it on that split's training rows, and fits
  ``SVC(kernel="precomputed")`` for every :math:`C` on it, so libsvm never evaluates a
  kernel itself. Everything runs in float64. By default (``solver="fast"``) training
  rows identical in embedding and label are fit as one row with :math:`C` times their
  count (``sample_weight``), which has the same optimum and decision function (see
  :func:`~graphsampler.eval.sklearn_grid.sklearn_grid`); 1-WL twins make more than half
  of IMDB-MULTI's rows such copies. ``solver="sklearn"`` fits every row.
* ``"linear"`` (MVGRL: ``LinearSVC()``, squared hinge, L2, intercept regularised as a
  weight). By default (``solver="fast"``) every fit of the protocol, all outer and
  inner folds, :math:`C` values and one-vs-rest classes, is one batched primal Newton
  solve (:mod:`graphsampler.eval.linear_svm`) of ``LinearSVC``'s objective, run to
  convergence (a relative gradient norm of :math:`10^{-4}`, liblinear's primal
  criterion, or the exact minimum): the same model, converged. The reference
  (``solver="sklearn"``) is MVGRL's own call with the defaults of its scikit-learn
  0.21.3: liblinear's dual coordinate descent, ``tol=1e-4``, ``max_iter=1000``, seeded
  with ``random_state=seed``, convergence warnings silenced as the reference code
  silenced all warnings. On unscaled 512-wide embeddings it stops at ``max_iter`` for
  large :math:`C`, unconverged, so its scores there depend on where it stopped (and it
  is slow: minutes per run); the fast path scores the model the protocol intends. Where
  liblinear converges the two agree (``benchmarks/results/svm_speed*`` puts their fold
  accuracies side by side on the same splits).

The scikit-learn fits run in parallel: RBF splits in threads (libsvm releases the GIL
and draws no random numbers), liblinear splits in worker processes (its random
generator is process-global, so threads would make its results depend on scheduling).

Where this deliberately differs from the published code: both drew the outer split with
``random_state=None`` (we seed it); MVGRL ran scikit-learn 0.21.3, whose
``GridSearchCV`` defaulted to ``iid=True`` (inner scores averaged weighted by fold
size; we take the plain mean, as every release since 0.22 does); GraphCL's release is
unpinned, and ``SVC()`` means ``gamma="scale"`` since scikit-learn 0.22
(``1 / d`` before).
"""
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from torch import Tensor
from tqdm.auto import tqdm

from graphsampler.eval.linear_grid import Task, linear_grid_accuracies
from graphsampler.eval.sklearn_grid import sklearn_grid

C_GRID: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
r"""The :math:`C` grid of GraphCL and MVGRL."""

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SVMResult:
    r"""The outcome of :func:`svm_cv`.

    Args:
        fold_accuracies (list[float]): Test accuracy of every outer fold, in percent.
        mean (float): Mean of :obj:`fold_accuracies`.
        std (float): Population standard deviation of :obj:`fold_accuracies`
            (``np.std``, as the reference codes report it).
        best_c (list[float]): The :math:`C` the inner search chose in every outer fold.
        seconds (float): Wall time of the whole protocol.
    """
    fold_accuracies: list[float]
    mean: float
    std: float
    best_c: list[float]
    seconds: float


def svm_cv(
    x: np.ndarray | Tensor,
    y: np.ndarray | Tensor,
    kernel: Literal["rbf", "linear"] = "rbf",
    seed: int = 0,
    *,
    folds: int = 10,
    inner_folds: int = 5,
    c_grid: Sequence[float] = C_GRID,
    n_jobs: int | None = None,
    solver: Literal["fast", "sklearn"] = "fast",
    progress: bool = False,
) -> SVMResult:
    r"""Scores embeddings by nested, stratified SVM cross-validation.

    Outer: ``StratifiedKFold(folds, shuffle=True, random_state=seed)``. In each outer
    fold, every :math:`C` of :obj:`c_grid` is scored by its mean accuracy over
    ``StratifiedKFold(inner_folds)`` (no shuffle, what ``GridSearchCV(cv=inner_folds)``
    uses for a classifier) of the training part; the first :math:`C` with the best mean
    wins (as in ``GridSearchCV``), is refit on the whole training part, and scored on
    the held-out fold. Gives the fold accuracies of
    ``GridSearchCV(SVC(kernel="rbf", gamma="scale"), {"C": c_grid}, cv=inner_folds)``
    (or a converged ``LinearSVC``; ``LinearSVC(dual=True, random_state=seed)`` with
    :obj:`solver="sklearn"`, see the module docstring) fit inside the same outer
    splits.

    Args:
        x (numpy.ndarray or torch.Tensor): Embeddings, shape :math:`[N, d]`, finite.
            Any device or dtype; scored in float64 on the CPU.
        y (numpy.ndarray or torch.Tensor): Class labels, shape :math:`[N]`.
        kernel (str, optional): :obj:`"rbf"` (``SVC``, GraphCL) or :obj:`"linear"`
            (``LinearSVC``, MVGRL). (default: :obj:`"rbf"`)
        seed (int, optional): Seeds the outer split (and liblinear). (default: :obj:`0`)
        folds (int, optional): Outer folds. (default: :obj:`10`)
        inner_folds (int, optional): Inner folds of the grid search. (default: :obj:`5`)
        c_grid (Sequence[float], optional): Candidate :math:`C` values, positive.
            (default: :obj:`C_GRID`, :math:`10^{-3}, \dots, 10^{3}`)
        n_jobs (int, optional): Parallel workers of libsvm and liblinear (threads for
            :obj:`"rbf"`, processes for :obj:`"linear"` with :obj:`solver="sklearn"`);
            :obj:`None` uses every core, negative values count back from all cores as
            in joblib. The :obj:`"fast"` linear solver uses torch's threads instead.
            (default: :obj:`None`)
        solver (str, optional): :obj:`"fast"`: for :obj:`"linear"`, every fit of the
            protocol in one batched, converged primal Newton solve in torch (on the
            device of :obj:`x` when it is a tensor, float64); for :obj:`"rbf"`, libsvm on
            a precomputed kernel, identical training rows merged. :obj:`"sklearn"`: the
            reference, liblinear's dual solver for :obj:`"linear"` (the module docstring
            says how they differ), every row its own variable for :obj:`"rbf"`.
            (default: :obj:`"fast"`)
        progress (bool, optional): Show a progress bar of the outer folds done, as
            training shows its epochs. The libsvm and liblinear fits then run fold by
            fold (the same fits); the batched linear solve fits every fold at once.
            (default: :obj:`False`)

    Returns:
        SVMResult: Fold accuracies (%), their mean and std, the chosen :math:`C` per
        fold, and the wall time.

    Memory: :obj:`"rbf"` holds the :math:`N \times N` float64 distance matrix
    (200 MB for :math:`N = 5000`) and, per worker, two kernel blocks of the same order.

    Example:
        >>> from sklearn.datasets import make_classification
        >>> x, y = make_classification(200, 16, random_state=0)
        >>> res = svm_cv(x, y, "rbf", seed=0)
        >>> len(res.fold_accuracies), len(res.best_c)
        (10, 10)
    """
    start = time.perf_counter()
    x_np, y_np, c_values = _check_inputs(x, y, kernel, folds, inner_folds, c_grid,
                                         n_jobs, solver)
    outer_cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    outer = list(outer_cv.split(x_np, y_np))
    inner = [_inner_splits(train, y_np, inner_folds) for train, _ in outer]
    score_all: Callable[[Sequence[Task]], list[list[float]]]
    if kernel == "linear" and solver == "fast":
        x_t = torch.from_numpy(x_np).to(x.device if isinstance(x, Tensor) else "cpu")
        score_all = lambda tasks: _newton_scores(x_t, y_np, tasks)  # noqa: E731
    else:
        score_all = sklearn_grid(x_np, y_np, kernel, seed, n_jobs,
                                 merge_duplicates=solver == "fast")
    bar = tqdm(total=folds, desc=f"eval {kernel} SVM", unit="fold", disable=not progress)
    if progress and not (kernel == "linear" and solver == "fast"):
        best_c, test_scores = [], []
        for (train, test), splits in zip(outer, inner):  # fold by fold, for the bar
            best_c.append(c_values[_best_index(score_all([(tr, te, c_values)
                                                          for tr, te in splits]))])
            test_scores += score_all([(train, test, [best_c[-1]])])
            bar.update(1)
    else:
        inner_scores = score_all([(tr, te, c_values)
                                  for splits in inner for tr, te in splits])
        best_c = [c_values[_best_index(inner_scores[f * inner_folds:(f + 1) * inner_folds])]
                  for f in range(folds)]
        test_scores = score_all([(tr, te, [c]) for (tr, te), c in zip(outer, best_c)])
        bar.update(folds)
    bar.close()

    acc = [100.0 * s[0] for s in test_scores]
    return SVMResult(fold_accuracies=acc, mean=float(np.mean(acc)),
                     std=float(np.std(acc)), best_c=best_c,
                     seconds=time.perf_counter() - start)


def _newton_scores(x: Tensor, y: np.ndarray, tasks: Sequence[Task]) -> list[list[float]]:
    scores, converged = linear_grid_accuracies(x, y, tasks)
    if not converged:
        warnings.warn("the linear SVM solver stopped before its tolerance on some "
                      "fits; their accuracies may differ from converged ones",
                      ConvergenceWarning, stacklevel=3)
    return scores


def _check_inputs(
    x: np.ndarray | Tensor,
    y: np.ndarray | Tensor,
    kernel: str,
    folds: int,
    inner_folds: int,
    c_grid: Sequence[float],
    n_jobs: int | None,
    solver: str,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    if solver not in ("fast", "sklearn"):
        raise ValueError(f"solver must be 'fast' or 'sklearn' (the reference), "
                         f"got {solver!r}")
    if kernel not in ("rbf", "linear"):
        raise ValueError(f"kernel must be 'rbf' (SVC, GraphCL) or 'linear' "
                         f"(LinearSVC, MVGRL), got {kernel!r}")
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(y, Tensor):
        y = y.detach().cpu().numpy()
    x_np, y_np = np.asarray(x, dtype=np.float64), np.asarray(y)
    if x_np.ndim != 2 or x_np.shape[0] == 0 or x_np.shape[1] == 0:
        raise ValueError(f"x must be a non-empty [N, d] matrix of embeddings, "
                         f"got shape {tuple(x_np.shape)}")
    if y_np.ndim != 1 or len(y_np) != len(x_np):
        raise ValueError(f"y must be a vector with one label per row of x "
                         f"({len(x_np)}), got shape {tuple(y_np.shape)}")
    if not np.isfinite(x_np).all():
        raise ValueError("x holds NaN or infinite values; embed with a model that did "
                         "not diverge (or drop those rows)")
    for name, value, low in (("folds", folds, 2), ("inner_folds", inner_folds, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    c_values = [float(c) for c in c_grid]
    if not c_values or not all(np.isfinite(c) and c > 0 for c in c_values):
        raise ValueError(f"c_grid must be a non-empty sequence of positive, finite "
                         f"C values, got {list(c_grid)!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be None (all cores) or a non-zero integer, "
                         f"got {n_jobs!r}")
    classes, counts = np.unique(y_np, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"y must hold at least 2 classes to classify, got "
                         f"{len(classes)}")
    if counts.min() < folds:
        raise ValueError(f"class {classes[counts.argmin()]!r} has {counts.min()} "
                         f"samples, fewer than folds={folds}; lower folds (every class "
                         f"needs a sample in every outer fold)")
    smallest_train = counts.min() - -(-counts.min() // folds)  # minus its largest fold
    if smallest_train < inner_folds:
        raise ValueError(f"class {classes[counts.argmin()]!r} keeps only "
                         f"{smallest_train} samples in an outer training part, fewer "
                         f"than inner_folds={inner_folds}; lower inner_folds or folds")
    return x_np, y_np, c_values


def _inner_splits(train: np.ndarray, y: np.ndarray, inner_folds: int) -> list[Split]:
    r"""The grid search's splits of the outer training rows, as global row indices."""
    cv = StratifiedKFold(inner_folds)
    return [(train[a], train[b]) for a, b in cv.split(np.zeros(len(train)), y[train])]


def _best_index(split_scores: list[list[float]]) -> int:
    r"""``GridSearchCV``'s choice: the first candidate with the highest mean score.

    The mean is taken exactly as ``GridSearchCV`` takes it (a C-ordered
    ``[n_candidates, n_splits]`` float64 array averaged along its rows), so that float
    ties break identically.
    """
    table = np.ascontiguousarray(np.asarray(split_scores, dtype=np.float64).T)
    return int(np.argmax(np.average(table, axis=1)))


__all__ = ["C_GRID", "SVMResult", "svm_cv"]
