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
            ``test``.
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
    labels, c_all = [], []
    for train, _, c_values in tasks:
        mask = torch.zeros(len(y), dtype=dtype, device=device)
        mask[torch.as_tensor(train, device=device)] = 1.0
        for c in c_values:
            labels.append(signs * mask)
            c_all.extend([c] * len(positive))
    weights, converged = fit_linear_svm(
        x, torch.cat(labels), torch.tensor(c_all, dtype=dtype, device=device), tol=tol)
    weights = weights.view(-1, len(positive), x.shape[1] + 1)
    out, fit = [], 0
    for _, test, c_values in tasks:
        test_t = torch.as_tensor(test, device=device)
        w = weights[fit:fit + len(c_values)]                      # [C, K, d + 1]
        scores = x[test_t] @ w[..., :-1].transpose(1, 2) + w[..., -1][:, None, :]
        pred = ((scores[..., 0] > 0).long() if len(classes) == 2
                else scores.argmax(dim=2))                        # [C, T]
        hits = pred.cpu().numpy() == codes[test][None, :]
        out.append([float(np.mean(h)) for h in hits])
        fit += len(c_values)
    return out, bool(converged.all())
