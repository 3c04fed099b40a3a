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
does not train on. It runs Newton's method in the primal (Chapelle, "Training a support
vector machine in the primal", 2007; Keerthi and DeCoste, JMLR 2005): with :math:`A`
the rows inside the margin, the Newton point solves
:math:`(I + 2C\, \tilde{X}_A^\top \tilde{X}_A)\, w = 2C\, \tilde{X}_A^\top y_A`, and
:math:`f` is minimised exactly along the step (a piecewise quadratic in one variable).
The active set settles after a few steps, and the step that follows it lands on the
minimum: the solver converges exactly, at any :math:`C` and any scaling of the
features, where liblinear's dual coordinate descent stops at its iteration cap.

Each problem keeps its Gram matrix :math:`\tilde{X}_A^\top \tilde{X}_A` and updates it
by the rows that enter or leave :math:`A` (few, after the first step), also along a
path of :math:`C` values, so a Newton step costs one :math:`D \times D` Cholesky
factorisation rather than a product over all rows. With more weights than rows
(:math:`D > N`) the problem is solved in the span of the rows (:math:`D = N`; the
minimiser lies there). Every operation is batched over the problems, so the same code
runs on a GPU.
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
        chunk_elements (int, optional): Gram entries held at a time: problems are
            solved in chunks of about this many over :math:`D^2`, with
            :math:`D = \min(d + 1, N)`; and the feature entries gathered at a time to
            update their Gram matrices. (default: :obj:`2^{24}`)

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
    xt = torch.cat([x, x.new_ones(len(x), 1)], dim=1)     # [N, d + 1]
    basis = None
    if xt.shape[1] > xt.shape[0]:  # w = basis @ v: the minimiser lies in the rows' span
        basis, r = torch.linalg.qr(xt.T)                  # [d + 1, N], [N, N]
        xt = r.T                                          # same products with v as w
    y = y.to(x.dtype)
    path = c.to(x.dtype).reshape(-1, len(y))              # [J, P]
    gram = xt.T @ xt                                      # [D, D], every row
    weights = x.new_empty(len(path), len(y), xt.shape[1])
    converged = torch.empty(path.shape, dtype=torch.bool, device=x.device)
    per_chunk = max(1, chunk_elements // xt.shape[1] ** 2)
    for lo in range(0, len(y), per_chunk):
        chunk = slice(lo, lo + per_chunk)
        state = _GramState(gram.expand(len(y[chunk]), -1, -1).clone(),
                           torch.ones_like(y[chunk], dtype=torch.bool), chunk_elements)
        w = torch.zeros_like(weights[0, chunk])
        for j, c_row in enumerate(path):  # each C starts from the previous C's minimum
            w, converged[j, chunk] = _newton(xt, y[chunk], 2.0 * c_row[chunk], w, state,
                                             tol, max_iter)
            weights[j, chunk] = w
    if basis is not None:
        weights = weights @ basis.T
    return weights.reshape(*c.shape, -1), converged.reshape(c.shape)


class _GramState:
    r"""Every problem's :math:`\tilde{X}_A^\top \tilde{X}_A` (:obj:`gram`,
    :math:`[P, D, D]`), the rows :math:`A` it sums (:obj:`rows`, :math:`[P, N]`), and
    how many feature entries an update gathers at a time (:obj:`chunk_elements`)."""

    def __init__(self, gram: Tensor, rows: Tensor, chunk_elements: int) -> None:
        self.gram, self.rows, self.chunk_elements = gram, rows, chunk_elements

    def moved_to(self, x: Tensor, problems: Tensor, active: Tensor) -> Tensor:
        r"""Updates the Gram matrices of :obj:`problems` to the rows :obj:`active`
        (:math:`[Q, N]`) by the rows that entered or left; returns them,
        :math:`[Q, D, D]`."""
        every = len(problems) == len(self.rows)  # then problems is arange: no copies
        change = active.to(torch.int8) - self.rows[problems].to(torch.int8)
        gram = self.gram if every else self.gram[problems]
        moved = int((change != 0).sum(1).max())
        if moved:
            # each problem's changed rows first (padding: sign 0), then a signed update
            idx = torch.argsort((change == 0).to(torch.int8), dim=1, stable=True)
            sign = torch.gather(change, 1, idx[:, :moved]).to(x.dtype)
            step = max(1, self.chunk_elements // (len(problems) * x.shape[1]))
            for lo in range(0, moved, step):  # rows gathered: [Q, <= step, D]
                picked = x[idx[:, lo:min(lo + step, moved)]]
                signed = picked * sign[:, lo:lo + step, None]
                gram.baddbmm_(signed.transpose(1, 2), picked)
            if not every:
                self.gram[problems] = gram
            self.rows[problems] = active
        return gram


def _newton(x: Tensor, y: Tensor, c2: Tensor, w: Tensor, state: _GramState, tol: float,
            max_iter: int) -> tuple[Tensor, Tensor]:
    r"""Newton's method from :obj:`w` (:math:`[P, D]`) on every problem; returns the
    minimisers and which converged."""
    w = w.clone()
    z = w @ x.T                                           # decision values, [P, N]
    g0 = c2 * (y @ x).norm(dim=1)                         # |grad f(0)| = |2C X'y|
    converged = torch.zeros(len(y), dtype=torch.bool, device=y.device)
    todo = torch.arange(len(y), device=y.device)
    for _ in range(max_iter):
        wt, zt, yt, ct = w[todo], z[todo], y[todo], c2[todo]
        act = (yt * zt < 1) & (yt != 0)
        grad = wt + ct[:, None] * ((act * (zt - yt)) @ x)
        keep = grad.norm(dim=1) > tol * g0[todo]
        converged[todo[~keep]] = True
        todo, wt, zt, yt, ct, act = (t[keep] for t in (todo, wt, zt, yt, ct, act))
        if len(todo) == 0:
            break
        hess = state.moved_to(x, todo, act) * ct[:, None, None]
        hess.diagonal(dim1=1, dim2=2).add_(1.0)
        rhs = ct[:, None] * ((act * yt) @ x)
        step = torch.cholesky_solve(rhs[..., None], torch.linalg.cholesky(hess))[..., 0]
        step = step - wt
        dz = step @ x.T
        # a Newton point inside its own active set is the minimum: take it, and stop
        exact = (((yt * (zt + dz) < 1) & (yt != 0)) == act).all(1)
        t = torch.where(exact, 1.0, _line_search((wt * step).sum(1), (step * step).sum(1),
                                                 zt, dz, yt, ct))
        w[todo] = wt + t[:, None] * step
        z[todo] = zt + t[:, None] * dz
        # done: exact, or stalled (the Newton point is where we are, up to rounding)
        done = exact | ((t[:, None] * dz).abs().amax(1) <= 1e-12)
        converged[todo[done]] = True
        todo = todo[~done]
    return w, converged


def _line_search(ws: Tensor, ss: Tensor, z: Tensor, dz: Tensor, y: Tensor, c2: Tensor,
                 max_iter: int = 60) -> Tensor:
    r"""The exact minimiser :math:`t \ge 0` of :math:`f(w + t s)` per problem, given
    :math:`w^\top s`, :math:`s^\top s`, the decision values and their change along
    :math:`s`: a safeguarded Newton search on the piecewise-linear, increasing
    derivative."""
    labelled = y != 0

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
