import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from graphsampler.eval.linear_grid import linear_grid_accuracies
from graphsampler.eval.linear_svm import fit_linear_svm

C_VALUES = (1e-3, 1e-1, 10.0, 1e3)


def _objective(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> float:
    # LinearSVC's objective written out: 0.5 |w|^2 (intercept included) + C sum hinge^2
    margin = y * (x @ w[:-1] + w[-1])
    return 0.5 * float(w @ w) + c * float(np.sum(np.maximum(0.0, 1.0 - margin) ** 2))


def _oracle(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    svc = LinearSVC(C=c, dual=False, tol=1e-12, max_iter=100_000).fit(x, y)
    return np.r_[svc.coef_[0], svc.intercept_]


def _data(n: int = 120, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x, y = make_classification(n, d, n_informative=5, flip_y=0.1, random_state=seed)
    return 4.0 * x + 2.0, np.where(y == 1, 1.0, -1.0)  # unscaled, off-centre


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_liblinear_primal(seed: int) -> None:
    x, y = _data(seed=seed)
    c = torch.tensor(C_VALUES, dtype=torch.float64)
    w, ok = fit_linear_svm(torch.from_numpy(x), torch.from_numpy(y).repeat(4, 1), c,
                           tol=1e-10)  # to the exact minimum
    assert ok.all()
    for i, c_value in enumerate(C_VALUES):
        ref = _oracle(x, y, c_value)
        ours = w[i].numpy()
        assert np.abs(ours - ref).max() <= 1e-5 * np.abs(ref).max()
        # never worse than the oracle: ours is a minimiser too
        assert _objective(x, y, ours, c_value) <= _objective(x, y, ref, c_value) * (
            1 + 1e-9)
        sign = np.sign(x @ ours[:-1] + ours[-1])
        assert (sign == np.sign(x @ ref[:-1] + ref[-1])).all()


def test_zero_labels_leave_rows_out() -> None:
    # A problem whose labels are 0 on some rows is the problem on the other rows alone;
    # batched problems do not interact.
    x, y = _data(seed=2)
    keep = np.arange(len(y)) % 3 != 0
    labels = torch.from_numpy(np.stack([y * keep, y]))
    c = torch.tensor([10.0, 0.5], dtype=torch.float64)
    w, ok = fit_linear_svm(torch.from_numpy(x), labels, c, tol=1e-10)
    alone, _ = fit_linear_svm(torch.from_numpy(x[keep]), labels[:1, keep], c[:1],
                              tol=1e-10)
    assert ok.all()
    torch.testing.assert_close(w[0], alone[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w[0].numpy(), _oracle(x[keep], y[keep], 10.0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w[1].numpy(), _oracle(x, y, 0.5), rtol=1e-5, atol=1e-6)


def test_reports_unconverged_problems() -> None:
    x, y = _data(seed=3)
    labels = torch.from_numpy(y)[None]
    c = torch.tensor([1e3], dtype=torch.float64)
    _, ok = fit_linear_svm(torch.from_numpy(x), labels, c, max_iter=1)
    assert not ok.any()
    _, ok = fit_linear_svm(torch.from_numpy(x), labels, c)
    assert ok.all()


def test_deterministic() -> None:
    x, y = _data(seed=4)
    args = (torch.from_numpy(x), torch.from_numpy(y)[None].repeat(2, 1),
            torch.tensor([1.0, 100.0], dtype=torch.float64))
    assert torch.equal(fit_linear_svm(*args)[0], fit_linear_svm(*args)[0])


def test_shape_error() -> None:
    x = torch.zeros(5, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"y \[P, N\] and c \[P\] or \[J, P\], got"):
        fit_linear_svm(x, torch.ones(2, 4), torch.ones(2))
    with pytest.raises(ValueError, match=r"got \(5, 2\), \(2, 5\) and \(3,\)"):
        fit_linear_svm(x, torch.ones(2, 5), torch.ones(3))
    with pytest.raises(ValueError, match="same number of C values in every task"):
        linear_grid_accuracies(x, np.array([0, 1, 0, 1, 0]),
                               [(np.arange(4), np.arange(4, 5), [1.0]),
                                (np.arange(4), np.arange(4, 5), [1.0, 2.0])])


def test_path_equals_cold_starts() -> None:
    # A warm-started C path reaches the same minima as separate solves from zero.
    x, y = _data(seed=5)
    labels = torch.from_numpy(y)[None].repeat(2, 1)
    path = torch.tensor([[1e-2, 1e3], [1.0, 1e-1], [1e3, 10.0]], dtype=torch.float64)
    w, ok = fit_linear_svm(torch.from_numpy(x), labels, path, tol=1e-10)
    assert w.shape == (3, 2, 11) and ok.all()
    for j in range(3):
        cold, _ = fit_linear_svm(torch.from_numpy(x), labels, path[j], tol=1e-10)
        # equal up to the rounding of the ill-conditioned C = 1e3 solves
        assert (w[j] - cold).abs().max() <= 1e-5 * cold.abs().max()


@pytest.mark.parametrize("classes", [2, 3])
def test_grid_accuracies_match_liblinear_predictions(classes: int) -> None:
    # One-vs-rest predictions and their tie-breaking, against LinearSVC.predict.
    x, y = make_classification(160, 6, n_informative=4, n_redundant=1,
                               n_classes=classes, flip_y=0.15, random_state=classes)
    y = np.array(["a", "b", "c"])[y]  # labels need not be integers
    gen = np.random.default_rng(0)
    rows = gen.permutation(len(y))
    # two C paths (warm starts in either direction), as svm_cv's inner and outer fits
    tasks = [(rows[:100], rows[100:], list(C_VALUES)),
             (rows[60:], rows[:60], [1e3, 1.0, 0.1, 7.0])]
    ours, ok = linear_grid_accuracies(torch.from_numpy(x), y, tasks)
    assert ok
    for (train, test, c_values), accuracies in zip(tasks, ours):
        ref = [np.mean(LinearSVC(C=c, dual=False, tol=1e-12, max_iter=100_000)
                       .fit(x[train], y[train]).predict(x[test]) == y[test])
               for c in c_values]
        assert accuracies == ref


def test_more_weights_than_rows_match_liblinear_primal() -> None:
    # d + 1 > N: solved in the span of the rows, then mapped back to d + 1 weights.
    x, y = _data(n=30, d=60, seed=3)
    c = torch.tensor([0.01, 10.0], dtype=torch.float64)
    w, ok = fit_linear_svm(torch.from_numpy(x), torch.from_numpy(y).repeat(2, 1), c,
                           tol=1e-10)
    assert ok.all() and w.shape == (2, 61)
    for i, c_value in enumerate(c.tolist()):
        ref = _oracle(x, y, c_value)
        np.testing.assert_allclose(w[i].numpy(), ref, rtol=1e-5,
                                   atol=1e-5 * np.abs(ref).max())


def test_chunks_leave_results_unchanged() -> None:
    # one problem per chunk (each its own Gram state) against all problems in one chunk
    x, y = _data(seed=4)
    gen = np.random.default_rng(0)
    labels = torch.from_numpy(np.stack([y * (gen.random(len(y)) < 0.8) for _ in range(5)]))
    path = torch.tensor([[0.01] * 5, [1.0] * 5, [100.0] * 5], dtype=torch.float64)
    one, ok_one = fit_linear_svm(torch.from_numpy(x), labels, path, chunk_elements=1)
    all_, ok_all = fit_linear_svm(torch.from_numpy(x), labels, path)
    assert ok_one.all() and ok_all.all()
    torch.testing.assert_close(one, all_, rtol=1e-9, atol=1e-9)
