r"""The per-split scikit-learn fits of :func:`~graphsampler.eval.svm.svm_cv`: libsvm on
a precomputed RBF kernel (GraphCL's ``SVC()``) and liblinear's dual solver (MVGRL's
``LinearSVC()``), run over many splits in parallel by :func:`sklearn_accuracies`."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC, LinearSVC

from graphsampler.eval.linear_grid import Task

# (train rows, test rows, Cs) -> one accuracy per C
SplitScorer = Callable[[np.ndarray, np.ndarray, Sequence[float]], list[float]]


def sklearn_grid(x: np.ndarray, y: np.ndarray, kernel: str, seed: int,
                 n_jobs: int | None, *, merge_duplicates: bool = False,
                 ) -> Callable[[Sequence[Task]], list[list[float]]]:
    r"""A scorer of grid tasks on :obj:`x`: test accuracy of ``SVC(C, gamma="scale")``
    (:obj:`kernel="rbf"`) or MVGRL's ``LinearSVC(C)`` (:obj:`"linear"`) for every task
    and every :math:`C` of it. The RBF scorer computes the distances of all rows once.

    With :obj:`merge_duplicates` (RBF only), the training rows that are identical, label
    included, enter libsvm as one row whose :math:`C` is multiplied by their count. The
    dual objective and its constraints depend on such rows only through the sum of their
    coefficients, which may range over :math:`[0, mC]`: the merged problem has the same
    optimum and the same decision function, with fewer variables. Embeddings of graphs
    the encoder cannot tell apart (1-WL twins under a GIN) are identical rows; on
    IMDB-MULTI more than half of the rows are such copies.

    Args:
        x (numpy.ndarray): Features, shape :math:`[N, d]`, float64.
        y (numpy.ndarray): Class labels, shape :math:`[N]`.
        kernel (str): :obj:`"rbf"` or :obj:`"linear"`.
        seed (int): liblinear's ``random_state``.
        n_jobs (int, optional): joblib workers; :obj:`None` is every core.
        merge_duplicates (bool): Fit RBF SVMs on the distinct training rows, weighted
            by their counts. (default: :obj:`False`)

    Returns:
        Callable: Maps ``(train, test, c_values)`` triples to their accuracies
        (fractions), one list per task, one per :math:`C`.

    Example:
        >>> x = np.array([[0.0], [1.0], [3.0], [4.0]])
        >>> score = sklearn_grid(x, np.array([0, 0, 1, 1]), "rbf", seed=0, n_jobs=1)
        >>> score([(np.array([0, 3]), np.array([1, 2]), [1.0])])
        [[1.0]]
    """
    if kernel == "rbf":
        keys = _row_label_keys(x, y) if merge_duplicates else None
        score: SplitScorer = partial(_rbf_scores, _squared_distances(x), x, y, keys)
    else:
        score = partial(_linear_scores, x, y, seed)
    # liblinear draws its coordinate order from a process-global generator, so its
    # fits run in worker processes; libsvm's are deterministic and share the distance
    # matrix across threads.
    pool = Parallel(n_jobs=-1 if n_jobs is None else n_jobs,
                    backend="threading" if kernel == "rbf" else "loky")
    return lambda tasks: pool(delayed(score)(tr, te, cs) for tr, te, cs in tasks)


def _row_label_keys(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r"""One integer per row, shape :math:`[N]`, equal for rows equal in :obj:`x` and
    :obj:`y`."""
    rows = np.unique(x, axis=0, return_inverse=True)[1].reshape(-1)
    label = np.unique(y, return_inverse=True)[1].reshape(-1)
    return rows * (label.max() + 1) + label


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


def _rbf_scores(dist: np.ndarray, x: np.ndarray, y: np.ndarray, keys: np.ndarray | None,
                train: np.ndarray, test: np.ndarray,
                c_values: Sequence[float]) -> list[float]:
    r"""Accuracy on ``test`` of ``SVC(C, kernel="rbf", gamma="scale")`` fit on
    ``train``, for every ``C``, sharing one precomputed kernel; rows of ``train`` with
    equal ``keys`` are fit as one, weighted by their count."""
    var = x[train].var()  # what gamma="scale" computes on the rows SVC is fit on
    gamma = 1.0 / (x.shape[1] * var) if var != 0 else 1.0
    weight = None
    if keys is not None:
        _, first, counts = np.unique(keys[train], return_index=True, return_counts=True)
        if first.size < train.size:
            train, weight = train[first], counts.astype(np.float64)
    k_train = _rbf_block(dist, train, train, gamma)
    k_test = _rbf_block(dist, test, train, gamma)
    return [_accuracy(y[test], SVC(C=c, kernel="precomputed")
                      .fit(k_train, y[train], sample_weight=weight).predict(k_test))
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
