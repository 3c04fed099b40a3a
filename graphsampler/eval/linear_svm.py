r"""A batched, converged solver of ``LinearSVC``'s objective (squared hinge, L2).

``LinearSVC(loss="squared_hinge", penalty="l2", fit_intercept=True,
intercept_scaling=1)`` minimises, for labels :math:`y_i \in \{-1, +1\}` and
:math:`\tilde{x}_i = [x_i, 1]` (the intercept is the last weight, regularised like the
others),

.. math::
    f(w) = \frac{1}{2} \lVert w \rVert^2
           + C \sum_i \max(0, 1 - y_i\, w^\top \tilde{x}_i)^2 .

:func:`fit_linear_svm` minimises many such problems at once (every fold, every
:math:`C` and every one-vs-rest class of a grid search) over one shared matrix
:math:`\tilde{X}`: each problem has its own labels, with :math:`0` marking the rows it
does not train on. It runs Newton's method in the span of the rows (Chapelle, "Training
a support vector machine in the primal", 2007): with :math:`w = \tilde{X}^\top \beta`
and :math:`A` the rows inside the margin, the Newton point is
:math:`\beta_A = (K_{AA} + I / 2C)^{-1} y_A`, :math:`\beta_{\bar{A}} = 0`
(:math:`K = \tilde{X}\tilde{X}^\top`), and :math:`f` is minimised exactly along the
step (a piecewise quadratic in one variable). The active set settles after a few steps,
and the step that follows it lands on the minimum: the solver converges exactly, at any
:math:`C` and any scaling of the features, where liblinear's dual coordinate descent
stops at its iteration cap. Every operation is batched over the problems (one Cholesky
solve per step of each), so the same code runs on a GPU.
"""
from __future__ import annotations

import torch
from torch import Tensor


def fit_linear_svm(
    x: Tensor,
    y: Tensor,
    c: Tensor,
    *,
    tol: float = 1e-4,
    max_iter: int = 50,
    chunk_elements: int = 1 << 24,
) -> tuple[Tensor, Tensor]:
    r"""Minimises :math:`P` squared-hinge, L2 linear SVM objectives sharing the rows
    of :obj:`x`.

    Args:
        x (torch.Tensor): Features, shape :math:`[N, d]`, floating point; a column of
            ones is appended for the intercept.
        y (torch.Tensor): Labels of every problem, shape :math:`[P, N]`: :math:`+1`,
            :math:`-1`, or :math:`0` for rows a problem leaves out.
        c (torch.Tensor): The :math:`C` of every problem, shape :math:`[P]`, positive;
            or a path of them, shape :math:`[J, P]`: each problem is solved for
            :math:`C` = ``c[0]``, then ``c[1]`` starting from that minimum, and so on
            (warm starts, fewer Newton steps).
        tol (float, optional): Stop a problem once
            :math:`\lVert \nabla f(w) \rVert \le \mathrm{tol} \cdot \lVert \nabla f(0)
            \rVert` (the criterion of liblinear's primal solver, which
            ``LinearSVC(dual=False, tol=tol)`` sets), or once a full Newton step keeps
            the active set (the exact minimum). (default: :obj:`1e-4`)
        max_iter (int, optional): Newton steps at most. (default: :obj:`50`)
        chunk_elements (int, optional): Kernel entries gathered for the Newton
            systems at a time (:math:`8` bytes each in float64): problems are solved
            in chunks of about this many :math:`|A|^2` entries. (default: :obj:`2^{24}`)

    Returns:
        (torch.Tensor, torch.Tensor): The weights, shape :math:`[P, d + 1]` (or
        :math:`[J, P, d + 1]` for a path; the last column is the intercept), and
        whether each fit converged, shape :math:`[P]` (or :math:`[J, P]`).

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [3.0], [4.0]], dtype=torch.float64)
        >>> y = torch.tensor([[-1.0, -1.0, 1.0, 1.0]], dtype=torch.float64)
        >>> w, ok = fit_linear_svm(x, y, torch.tensor([10.0], dtype=torch.float64))
        >>> bool(ok[0]), torch.sign(x @ w[0, :1] + w[0, 1]).tolist()
        (True, [-1.0, -1.0, 1.0, 1.0])
    """
    if (x.ndim != 2 or y.ndim != 2 or y.shape[1] != x.shape[0] or c.ndim not in (1, 2)
            or c.shape[-1] != len(y)):
        raise ValueError(f"fit_linear_svm expects x [N, d], y [P, N] and c [P] or "
                         f"[J, P], got "
                         f"{tuple(x.shape)}, {tuple(y.shape)} and {tuple(c.shape)}")
    xt = torch.cat([x, x.new_ones(len(x), 1)], dim=1)
    kernel = xt @ xt.T                                    # [N, N]
    y = y.to(x.dtype)
    path = c.to(x.dtype).reshape(-1, len(y))              # [J, P]
    beta = torch.zeros_like(y)                            # w = beta @ xt
    weights, converged = [], []
    for c_row in path:  # each C of a path starts from the previous C's minimum
        beta, ok = _newton(kernel, y, 2.0 * c_row[:, None], beta, tol, max_iter,
                           chunk_elements)
        weights.append(beta @ xt)
        converged.append(ok)
    return (torch.stack(weights).reshape(*c.shape, -1),
            torch.stack(converged).reshape(c.shape))


def _newton(kernel: Tensor, y: Tensor, c2: Tensor, beta: Tensor, tol: float,
            max_iter: int, chunk_elements: int) -> tuple[Tensor, Tensor]:
    r"""Newton's method from :obj:`beta` (:math:`[P, N]`, :math:`w = \beta \tilde{X}`)
    on every problem; returns the minimisers' :math:`\beta` and which converged."""
    beta = beta.clone()
    z = beta @ kernel                                     # decision values
    g0 = ((c2 * y) @ kernel * (c2 * y)).sum(1).sqrt()     # |grad f(0)| = |2C X'y|
    converged = torch.zeros(len(y), dtype=torch.bool, device=y.device)
    todo = torch.arange(len(y), device=y.device)
    for _ in range(max_iter):
        bt, zt, yt, ct = beta[todo], z[todo], y[todo], c2[todo]
        act = (yt * zt < 1) & (yt != 0)
        u = bt + ct * act * (zt - yt)                     # grad f = u @ xt
        gnorm = (u @ kernel * u).sum(1).clamp(min=0).sqrt()
        keep = gnorm > tol * g0[todo]
        converged[todo[~keep]] = True
        todo, bt, zt, yt, ct, act = (t[keep] for t in (todo, bt, zt, yt, ct, act))
        if len(todo) == 0:
            break
        step = _newton_point(kernel, act, yt, ct[:, 0], chunk_elements) - bt
        dz = step @ kernel
        # a Newton point inside its own active set is the minimum: take it, and stop
        exact = (((yt * (zt + dz) < 1) & (yt != 0)) == act).all(1)
        t = torch.where(exact, 1.0, _line_search((step * zt).sum(1), (step * dz).sum(1),
                                                 zt, dz, yt, ct))
        beta[todo] = bt + t[:, None] * step
        z[todo] = zt + t[:, None] * dz
        # done: exact, or stalled (the Newton point is where we are, up to rounding)
        done = exact | ((t[:, None] * dz).abs().amax(1) <= 1e-12)
        converged[todo[done]] = True
        todo = todo[~done]
    return beta, converged


def _newton_point(kernel: Tensor, act: Tensor, y: Tensor, c2: Tensor,
                  chunk_elements: int) -> Tensor:
    r"""Solves :math:`(K_{AA} + I / 2C)\, \beta_A = y_A` for every problem (its rows
    :math:`A` where :obj:`act` is set), zero elsewhere, shape :math:`[P, N]`. Problems
    are sorted by :math:`|A|` and solved in chunks, each padded to its largest
    :math:`|A|` with identity rows."""
    sizes = act.sum(1)
    order = torch.argsort(sizes)
    sorted_sizes = [max(int(n), 1) for n in sizes[order]]
    out = torch.zeros_like(y)
    start = 0
    while start < len(order):
        stop = start + 1
        while (stop < len(order)
               and (stop + 1 - start) * sorted_sizes[stop] ** 2 <= chunk_elements):
            stop += 1
        m, rows = sorted_sizes[stop - 1], order[start:stop]
        # active rows first (stable: in row order), then padding
        idx = torch.argsort((~act[rows]).to(torch.int8), dim=1, stable=True)[:, :m]
        real = torch.arange(m, device=y.device)[None, :] < sizes[rows][:, None]
        pair = real[:, :, None] & real[:, None, :]
        sub = kernel[idx[:, :, None], idx[:, None, :]] * pair
        diag = torch.where(real, 1.0 / c2[rows][:, None], torch.ones_like(sub[:, 0]))
        sub.diagonal(dim1=1, dim2=2).add_(diag)
        rhs = torch.where(real, torch.gather(y[rows], 1, idx), torch.zeros_like(diag))
        sol = torch.cholesky_solve(rhs[..., None], torch.linalg.cholesky(sub))[..., 0]
        sol = torch.where(real, sol, torch.zeros_like(sol))
        out[rows] = out[rows].scatter(1, idx, sol)
        start = stop
    return out


def _line_search(ws: Tensor, ss: Tensor, z: Tensor, dz: Tensor, y: Tensor, c2: Tensor,
                 max_iter: int = 60) -> Tensor:
    r"""The exact minimiser :math:`t \ge 0` of :math:`f(w + t s)` per problem, given
    :math:`w^\top s`, :math:`s^\top s`, the decision values and their change along
    :math:`s`: a safeguarded Newton search on the piecewise-linear, increasing
    derivative."""
    labelled = y != 0
    c2 = c2[:, 0]

    def slope(t: Tensor) -> tuple[Tensor, Tensor]:
        zt = z + t[:, None] * dz
        act = ((y * zt < 1) & labelled).to(z.dtype)
        return (ws + t * ss + c2 * (act * (zt - y) * dz).sum(1),
                ss + c2 * (act * dz * dz).sum(1))

    lo, hi = torch.zeros_like(ws), torch.ones_like(ws)
    d0 = slope(lo)[0].abs()
    d_hi, _ = slope(hi)
    for _ in range(60):  # grow hi until the slope turns non-negative
        short = d_hi < 0
        if not short.any():
            break
        lo = torch.where(short, hi, lo)
        hi = torch.where(short, 2 * hi, hi)
        d_hi, _ = slope(hi)
    t = hi.clone()
    for _ in range(max_iter):
        d, dd = slope(t)
        if (d.abs() <= 1e-12 * d0).all():
            break
        lo = torch.where(d < 0, t, lo)
        hi = torch.where(d > 0, t, hi)
        newton = t - d / dd
        inside = (newton > lo) & (newton < hi)
        t = torch.where(d == 0, t, torch.where(inside, newton, 0.5 * (lo + hi)))
    return t
