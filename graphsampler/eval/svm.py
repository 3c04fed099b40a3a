r"""The SVM cross-validation protocol that scores frozen graph embeddings.

GraphCL (``unsupervised_TU/evaluate_embedding.py``, ``svc_classify``) and MVGRL
(``graph/train.py``) both score embeddings with a nested cross-validation:
10-fold stratified outer CV (shuffled), and inside each outer fold a
``GridSearchCV(..., {"C": [1e-3, ..., 1e3]}, cv=5, scoring="accuracy")`` on the training
part, refit with the best :math:`C`, accuracy on the held-out fold. Neither scales or
centres the embeddings. :func:`svm_cv` runs that protocol with the same results as
scikit-learn's ``GridSearchCV`` (same splits, same tie-breaking), only faster:

* ``"rbf"`` (GraphCL: ``SVC()``, i.e. RBF with ``gamma="scale"``): the squared distances
  of all :math:`N` rows are computed once; each split turns them into its RBF kernel
  :math:`\exp(-\gamma D)`, with :math:`\gamma = 1 / (d \cdot \mathrm{Var}(X_{train}))` as
  ``gamma="scale"`` computes it on that split's training rows, and fits
  ``SVC(kernel="precomputed")`` for every :math:`C` on it, so libsvm never evaluates a
  kernel itself. Everything runs in float64.
* ``"linear"`` (MVGRL: ``LinearSVC()`` with the defaults of its scikit-learn 0.21.3:
  squared hinge, L2, ``dual=True``, ``tol=1e-4``, ``max_iter=1000``); seeded with
  ``random_state=seed`` so that liblinear's coordinate order is reproducible.
  Convergence warnings are silenced, as the reference code silenced all warnings.

The splits run in parallel: RBF splits in threads (libsvm releases the GIL and draws no
random numbers), linear splits in worker processes (liblinear's random generator is
process-global, so threads would make its results depend on scheduling).

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
from functools import partial
from typing import Literal

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC, LinearSVC
from torch import Tensor

C_GRID: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
r"""The :math:`C` grid of GraphCL and MVGRL."""

Split = tuple[np.ndarray, np.ndarray]
# (train rows, test rows, Cs) -> one accuracy per C
SplitScorer = Callable[[np.ndarray, np.ndarray, Sequence[float]], list[float]]


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
) -> SVMResult:
    r"""Scores embeddings by nested, stratified SVM cross-validation.

    Outer: ``StratifiedKFold(folds, shuffle=True, random_state=seed)``. In each outer
    fold, every :math:`C` of :obj:`c_grid` is scored by its mean accuracy over
    ``StratifiedKFold(inner_folds)`` (no shuffle, what ``GridSearchCV(cv=inner_folds)``
    uses for a classifier) of the training part; the first :math:`C` with the best mean
    wins (as in ``GridSearchCV``), is refit on the whole training part, and scored on
    the held-out fold. Gives the fold accuracies of
    ``GridSearchCV(SVC(kernel="rbf", gamma="scale"), {"C": c_grid}, cv=inner_folds)``
    (or ``LinearSVC(dual=True, random_state=seed)``, see the module docstring) fit
    inside the same outer splits.

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
        n_jobs (int, optional): Parallel workers (threads for :obj:`"rbf"`, processes
            for :obj:`"linear"`); :obj:`None` uses every core, negative values count
            back from all cores as in joblib. (default: :obj:`None`)

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
                                         n_jobs)
    outer_cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    outer = list(outer_cv.split(x_np, y_np))
    inner = [_inner_splits(train, y_np, inner_folds) for train, _ in outer]
    score: SplitScorer
    if kernel == "rbf":
        score = partial(_rbf_scores, _squared_distances(x_np), x_np, y_np)
    else:
        score = partial(_linear_scores, x_np, y_np, seed)

    # liblinear draws its coordinate order from a process-global generator, so its
    # fits run in worker processes; libsvm's are deterministic and share the distance
    # matrix across threads.
    pool = Parallel(n_jobs=-1 if n_jobs is None else n_jobs,
                    backend="threading" if kernel == "rbf" else "loky")
    inner_scores = pool(delayed(score)(tr, te, c_values)
                        for splits in inner for tr, te in splits)
    best_c = [c_values[_best_index(inner_scores[f * inner_folds:(f + 1) * inner_folds])]
              for f in range(folds)]
    test_scores = pool(delayed(score)(tr, te, [c]) for (tr, te), c in zip(outer, best_c))

    acc = [100.0 * s[0] for s in test_scores]
    return SVMResult(fold_accuracies=acc, mean=float(np.mean(acc)),
                     std=float(np.std(acc)), best_c=best_c,
                     seconds=time.perf_counter() - start)


def _check_inputs(
    x: np.ndarray | Tensor,
    y: np.ndarray | Tensor,
    kernel: str,
    folds: int,
    inner_folds: int,
    c_grid: Sequence[float],
    n_jobs: int | None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
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


def _squared_distances(x: np.ndarray) -> np.ndarray:
    r"""All pairwise squared Euclidean distances, shape :math:`[N, N]`, float64."""
    sq = np.einsum("ij,ij->i", x, x)
    dist = x @ x.T
    dist *= -2.0
    dist += sq[:, None]
    dist += sq[None, :]
    np.maximum(dist, 0.0, out=dist)
    np.fill_diagonal(dist, 0.0)
    return dist


def _rbf_block(dist: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               gamma: float) -> np.ndarray:
    block = dist[np.ix_(rows, cols)]
    block *= -gamma
    return np.exp(block, out=block)


def _rbf_scores(dist: np.ndarray, x: np.ndarray, y: np.ndarray, train: np.ndarray,
                test: np.ndarray, c_values: Sequence[float]) -> list[float]:
    r"""Accuracy on ``test`` of ``SVC(C, kernel="rbf", gamma="scale")`` fit on
    ``train``, for every ``C``, sharing one precomputed kernel."""
    var = x[train].var()  # what gamma="scale" computes on the rows SVC is fit on
    gamma = 1.0 / (x.shape[1] * var) if var != 0 else 1.0
    k_train = _rbf_block(dist, train, train, gamma)
    k_test = _rbf_block(dist, test, train, gamma)
    return [_accuracy(y[test], SVC(C=c, kernel="precomputed")
                      .fit(k_train, y[train]).predict(k_test))
            for c in c_values]


def _linear_scores(x: np.ndarray, y: np.ndarray, seed: int, train: np.ndarray,
                   test: np.ndarray, c_values: Sequence[float]) -> list[float]:
    r"""Accuracy on ``test`` of MVGRL's ``LinearSVC`` fit on ``train``, for every
    ``C``, sharing the sliced rows."""
    x_train, y_train, x_test = x[train], y[train], x[test]
    with warnings.catch_warnings():  # one task at a time per worker process
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [_accuracy(y[test], _linear_svc(c, seed)
                          .fit(x_train, y_train).predict(x_test))
                for c in c_values]


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # The float accuracy_score returns (the mean of a boolean array), minus its checks.
    return float(np.mean(y_true == y_pred))


def _linear_svc(c: float, seed: int) -> LinearSVC:
    # scikit-learn 0.21.3's defaults, which MVGRL ran with (newer releases default to
    # dual="auto"); seeded so liblinear's coordinate order is reproducible.
    return LinearSVC(C=c, penalty="l2", loss="squared_hinge", dual=True, tol=1e-4,
                     max_iter=1000, multi_class="ovr", fit_intercept=True,
                     intercept_scaling=1.0, random_state=seed)


__all__ = ["C_GRID", "SVMResult", "svm_cv"]
