r"""Every fit of a linear SVM grid search at once: :func:`linear_grid_accuracies`.

A grid search over :math:`C` inside a cross-validation fits one ``LinearSVC`` per
(split, :math:`C`), each one-vs-rest over the classes. This module turns all of them
into the problems of one :func:`~graphsampler.eval.linear_svm.fit_linear_svm` call and
scores each fit's predictions on its split's test rows, predicting as ``LinearSVC``
does: two classes, ``classes[1]`` where the decision value is positive; more, the class
of the largest decision value (the first on ties).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from graphsampler.eval.linear_svm import fit_linear_svm

#: One grid task: (training rows, test rows, the C values to fit and score).
Task = tuple[np.ndarray, np.ndarray, Sequence[float]]


def linear_grid_accuracies(x: Tensor, y: np.ndarray, tasks: Sequence[Task], *,
                           tol: float = 1e-4) -> tuple[list[list[float]], bool]:
    r"""Test accuracy of a squared-hinge, L2 linear SVM (``LinearSVC``'s objective,
    solved to convergence) for every task and every :math:`C` of it.

    Args:
        x (torch.Tensor): Features, shape :math:`[N, d]`, on the device to solve on
            (float64 advised).
        y (numpy.ndarray): Class labels, shape :math:`[N]`, at least two classes.
        tasks (Sequence[Task]): ``(train, test, c_values)`` triples: row indices into
            :obj:`x` and the :math:`C` values to fit on ``train`` and score on
            ``test``, as many in every task (each task's are solved as a path, in
            order, each warm-started from the previous one).
        tol (float, optional): The solver's relative gradient tolerance (see
            :func:`~graphsampler.eval.linear_svm.fit_linear_svm`). (default:
            :obj:`1e-4`)

    Returns:
        (list[list[float]], bool): The accuracies (fractions) of every task, one per
        :math:`C`, and whether every fit converged.

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [3.0], [4.0]], dtype=torch.float64)
        >>> tasks = [(np.array([0, 3]), np.array([1, 2]), [1.0, 10.0])]
        >>> linear_grid_accuracies(x, np.array([0, 0, 1, 1]), tasks)
        ([[1.0, 1.0]], True)
    """
    classes, codes = np.unique(y, return_inverse=True)
    positive = [1] if len(classes) == 2 else list(range(len(classes)))
    device, dtype = x.device, x.dtype
    codes_t = torch.as_tensor(codes, device=device)
    # [K, N]: +1 for the class a one-vs-rest problem separates, -1 for the rest
    signs = torch.stack([(codes_t == k).to(dtype) * 2 - 1 for k in positive])
    if len({len(c_values) for _, _, c_values in tasks}) != 1:
        raise ValueError("linear_grid_accuracies needs the same number of C values in "
                         "every task (one C path per task)")
    labels = []
    for train, _, _ in tasks:
        mask = torch.zeros(len(y), dtype=dtype, device=device)
        mask[torch.as_tensor(train, device=device)] = 1.0
        labels.append(signs * mask)
    # [J, T * K]: task t's j-th C for each of its K one-vs-rest problems
    path = torch.tensor([[c for _, _, c_values in tasks for c in [c_values[j]] * len(
        positive)] for j in range(len(tasks[0][2]))], dtype=dtype, device=device)
    weights, converged = fit_linear_svm(x, torch.cat(labels), path, tol=tol)
    weights = weights.view(len(path), len(tasks), len(positive), -1)  # [J, T, K, d+1]
    out = []
    for i, (_, test, _) in enumerate(tasks):
        w = weights[:, i]                                          # [J, K, d + 1]
        scores = x[torch.as_tensor(test, device=device)] @ w[..., :-1].transpose(1, 2)
        scores = scores + w[..., -1][:, None, :]                   # [J, T_test, K]
        pred = ((scores[..., 0] > 0).long() if len(classes) == 2
                else scores.argmax(dim=2))
        hits = pred.cpu().numpy() == codes[test][None, :]
        out.append([float(np.mean(h)) for h in hits])
    return out, bool(converged.all())
