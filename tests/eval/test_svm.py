import numpy as np
import pytest
import torch
from sklearn.base import ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import SVC, LinearSVC

from graphsampler.eval import C_GRID, SVMResult, svm_cv

# Small protocol for the synthetic checks (the full 10 x 5 x 7 one runs on MUTAG size).
SMALL = {"folds": 4, "inner_folds": 3, "c_grid": (1e-2, 1.0, 100.0, 1e3)}


def _estimator(kernel: str, seed: int) -> ClassifierMixin:
    # GraphCL: SVC(); MVGRL: LinearSVC() with scikit-learn 0.21.3's defaults, seeded;
    # "converged": LinearSVC's objective solved by liblinear's primal solver, tightly.
    if kernel == "rbf":
        return SVC(kernel="rbf", gamma="scale")
    if kernel == "converged":
        return LinearSVC(dual=False, tol=1e-10, max_iter=100_000)
    return LinearSVC(dual=True, tol=1e-4, max_iter=1000, random_state=seed)


def _plain_sklearn(x: np.ndarray, y: np.ndarray, kernel: str, seed: int,
                   folds: int = 10, inner_folds: int = 5,
                   c_grid: tuple[float, ...] = C_GRID) -> tuple[list[float], list[float]]:
    accuracies, best_c = [], []
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in outer.split(x, y):
        search = GridSearchCV(_estimator(kernel, seed), {"C": list(c_grid)},
                              cv=inner_folds, scoring="accuracy")
        search.fit(x[train], y[train])
        accuracies.append(100.0 * accuracy_score(y[test], search.predict(x[test])))
        best_c.append(search.best_params_["C"])
    return accuracies, best_c


def _assert_same(result: SVMResult, reference: tuple[list[float], list[float]]) -> None:
    accuracies, best_c = reference
    assert result.fold_accuracies == accuracies
    assert result.best_c == best_c
    assert result.mean == pytest.approx(np.mean(accuracies))
    assert result.std == pytest.approx(np.std(accuracies))
    assert result.seconds > 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
@pytest.mark.parametrize("seed,n_jobs", [(0, 1), (1, 2)])
def test_matches_gridsearchcv(kernel: str, seed: int, n_jobs: int) -> None:
    # n_jobs=2 runs two threads (rbf) or two worker processes (linear): the results
    # must not depend on scheduling.
    x, y = make_classification(90, 6, n_informative=3, n_redundant=1, n_classes=3,
                               flip_y=0.1, random_state=seed)
    result = svm_cv(x, y, kernel, seed, n_jobs=n_jobs, solver="sklearn", **SMALL)
    _assert_same(result, _plain_sklearn(x, y, kernel, seed, **SMALL))


@pytest.mark.parametrize("seed,classes", [(0, 2), (1, 3), (2, 4)])
def test_fast_linear_matches_converged_gridsearchcv(seed: int, classes: int) -> None:
    # The default linear solver against GridSearchCV over a tightly converged
    # LinearSVC (liblinear's primal solver), in the same splits: unscaled features,
    # binary and one-vs-rest, the full 10 x 5 x 7 protocol.
    x, y = make_classification(150, 8, n_informative=4, n_redundant=2,
                               n_classes=classes, flip_y=0.1, random_state=seed)
    x = 5.0 * x + 3.0
    result = svm_cv(x, y, "linear", seed)
    _assert_same(result, _plain_sklearn(x, y, "converged", seed))


def test_matches_gridsearchcv_on_mutag_sized_embeddings() -> None:
    # MUTAG: 188 graphs, 125 / 63 per class; 96-d like GraphCL's GIN embeddings.
    gen = np.random.default_rng(0)
    y = np.repeat([1, -1], [125, 63])
    x = (gen.normal(size=(188, 96)) + 0.3 * y[:, None]).astype(np.float32)
    result = svm_cv(torch.from_numpy(x), torch.from_numpy(y), "rbf", seed=3)
    _assert_same(result, _plain_sklearn(x.astype(np.float64), y, "rbf", seed=3))
    assert len(result.fold_accuracies) == 10


def test_separable_ties_pick_smallest_c() -> None:
    # Every C separates these clusters perfectly: GridSearchCV keeps the first.
    gen = np.random.default_rng(1)
    y = np.repeat([0, 1], 20)
    x = gen.normal(size=(40, 2)) * 0.05 + 10.0 * y[:, None]
    result = svm_cv(x, y, "rbf", seed=0, **SMALL)
    _assert_same(result, _plain_sklearn(x, y, "rbf", 0, **SMALL))
    assert result.best_c == [SMALL["c_grid"][0]] * SMALL["folds"]
    assert result.fold_accuracies == [100.0] * SMALL["folds"]


def test_gamma_is_computed_on_each_training_split() -> None:
    # A few far-out rows make the variance (so gamma="scale") depend on which rows a
    # split trains on; one gamma from all rows gives other accuracies here.
    x, y = make_classification(60, 4, n_informative=2, n_redundant=0, flip_y=0.1,
                               random_state=0)
    x[:3] *= 30.0
    result = svm_cv(x, y, "rbf", seed=0, **SMALL)
    _assert_same(result, _plain_sklearn(x, y, "rbf", 0, **SMALL))


def test_constant_embeddings_match() -> None:
    # Zero variance: gamma="scale" falls back to 1.
    x, y = np.ones((24, 3)), np.repeat(["a", "b", "c"], 8)
    result = svm_cv(x, y, "rbf", seed=0, **SMALL)
    _assert_same(result, _plain_sklearn(x, y, "rbf", 0, **SMALL))


def test_errors() -> None:
    x, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match="kernel must be 'rbf'"):
        svm_cv(x, y, "poly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"non-empty \[N, d\] matrix"):
        svm_cv(x[:, 0], y)
    with pytest.raises(ValueError, match=r"one label per row of x \(40\)"):
        svm_cv(x, y[:-1])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        svm_cv(bad, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        svm_cv(x, np.zeros(40))
    with pytest.raises(ValueError, match=r"has 3 samples, fewer than folds=10; lower"):
        svm_cv(x, np.r_[np.zeros(37), np.ones(3)])
    with pytest.raises(ValueError, match=r"keeps only 10 samples .* inner_folds=11"):
        svm_cv(x, np.repeat([0, 1], 20), folds=2, inner_folds=11)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        svm_cv(x, y, folds=1)
    with pytest.raises(ValueError, match="inner_folds must be an integer >= 2"):
        svm_cv(x, y, inner_folds=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="c_grid must be a non-empty"):
        svm_cv(x, y, c_grid=(1.0, -1.0))
    with pytest.raises(ValueError, match="c_grid must be a non-empty"):
        svm_cv(x, y, c_grid=())
    with pytest.raises(ValueError, match="n_jobs must be None"):
        svm_cv(x, y, n_jobs=0)
    with pytest.raises(ValueError, match="solver must be 'fast' or 'sklearn'"):
        svm_cv(x, y, solver="libsvm")  # type: ignore[arg-type]


def test_convergence_warnings_are_silenced(recwarn: pytest.WarningsRecorder) -> None:
    x, y = make_classification(60, 5, flip_y=0.2, random_state=4)
    with pytest.warns(ConvergenceWarning):  # the plain fit does warn on this data
        _estimator("linear", 0).set_params(C=1e3).fit(x, y)
    recwarn.clear()
    svm_cv(x, y, "linear", seed=0, n_jobs=1, solver="sklearn", **SMALL)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


def _with_twins(seed: int) -> tuple[np.ndarray, np.ndarray]:
    # 1-WL twins: 80 distinct rows, 120 more that copy one of them (a third of the
    # copies a single row), a tenth of the copies with another label.
    x, y = make_classification(80, 12, n_informative=5, n_classes=3, flip_y=0.1,
                               random_state=seed)
    gen = np.random.default_rng(seed)
    src = np.concatenate([np.zeros(40, dtype=int), gen.integers(0, 80, 80)])
    labels = np.where(gen.random(120) < 0.1, gen.integers(0, 3, 120), y[src])
    return np.concatenate([x, x[src]]), np.concatenate([y, labels])


@pytest.mark.parametrize("seed", [0, 1])
def test_merged_duplicates_match_gridsearchcv_on_every_row(seed: int) -> None:
    # The fast RBF path fits identical rows (label included) as one weighted row; the
    # oracle is plain GridSearchCV(SVC()) on all 200 rows, in the same splits.
    x, y = _with_twins(seed)
    assert len(np.unique(np.c_[x, y], axis=0)) < 0.6 * len(x)  # the merge has work
    result = svm_cv(x, y, "rbf", seed, **SMALL)
    _assert_same(result, _plain_sklearn(x, y, "rbf", seed, **SMALL))


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_progress_shows_the_folds_done_and_changes_no_score(kernel, capsys):
    from sklearn.datasets import make_classification
    x, y = make_classification(120, 8, random_state=0)
    quiet = svm_cv(x, y, kernel, seed=1)
    capsys.readouterr()
    shown = svm_cv(x, y, kernel, seed=1, progress=True)
    err = capsys.readouterr().err
    assert f"eval {kernel} SVM" in err and "10/10" in err
    assert shown.fold_accuracies == quiet.fold_accuracies and shown.best_c == quiet.best_c
