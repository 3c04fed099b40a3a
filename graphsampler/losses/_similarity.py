r"""Pieces shared by the contrastive losses (:mod:`~graphsampler.losses.infonce`,
:mod:`~graphsampler.losses.dcl`, :mod:`~graphsampler.losses.hcl`).

All three losses score the same pairs: anchor :math:`i` is row :math:`i` of ``z1``,
its positive is row :math:`i` of ``z2`` and its :math:`B - 1` negatives are the other
rows :math:`j \neq i` of ``z2``.  They differ only in how they weight those negatives,
so the similarity logits, the input checks and the debiased estimator live here once.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def check_temperature(temperature: float) -> float:
    r"""Returns :obj:`temperature` as a float after checking it is finite and positive.

    Args:
        temperature (float): The softmax temperature :math:`T`.
    """
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0 (GraphCL uses "
                         f"0.2), got {temperature}")
    return temperature


def check_tau_plus(tau_plus: float) -> float:
    r"""Returns :obj:`tau_plus` as a float after checking it lies in :math:`[0, 1)`.

    Args:
        tau_plus (float): The class prior :math:`\tau^+`, the probability that a
            sampled "negative" actually shares the anchor's class.
    """
    tau_plus = float(tau_plus)
    if not 0.0 <= tau_plus < 1.0:
        raise ValueError(f"tau_plus must be in [0, 1) (the probability that a "
                         f"negative shares the anchor's class; 0.1 is the usual "
                         f"choice), got {tau_plus}")
    return tau_plus


def _check_views(z1: Tensor, z2: Tensor) -> None:
    for name, z in (("z1", z1), ("z2", z2)):
        if not isinstance(z, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
        if not z.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got dtype "
                             f"{z.dtype}; convert it with .float()")
        if z.dim() != 2:
            raise ValueError(f"{name} must be 2-D with shape [batch_size, dim], got "
                             f"shape {tuple(z.shape)}")
    if z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must have the same shape (row i of each is one "
                         f"view of instance i), got {tuple(z1.shape)} and "
                         f"{tuple(z2.shape)}")
    if z1.dtype != z2.dtype or z1.device != z2.device:
        raise ValueError(f"z1 and z2 must share dtype and device, got "
                         f"{z1.dtype}/{z1.device} and {z2.dtype}/{z2.device}")
    if z1.size(0) < 2:
        raise ValueError(f"the batch must hold at least 2 instances so that every "
                         f"anchor has a negative, got batch size {z1.size(0)}")
    if z1.size(1) < 1:
        raise ValueError("z1 and z2 must have at least one feature column, got dim 0")
    if not (torch.isfinite(z1).all() and torch.isfinite(z2).all()):
        raise ValueError("z1 and z2 must contain only finite values; the encoder "
                         "produced NaN or inf (try a smaller learning rate)")


def cosine_logits(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    r"""Checks the two views and returns :math:`s_{ij} = \cos(z1_i, z2_j) / T`.

    Rows are L2-normalised with :func:`torch.nn.functional.normalize`, so an all-zero
    row has similarity 0 to everything (GraphCL's code would produce NaN there).

    Args:
        z1 (torch.Tensor): First view, shape :math:`[B, d]`.
        z2 (torch.Tensor): Second view, shape :math:`[B, d]`.
        temperature (float): The temperature :math:`T > 0`.

    Returns:
        torch.Tensor: The logits, shape :math:`[B, B]`; the diagonal holds the
        positives.
    """
    _check_views(z1, z2)
    return F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).t() / temperature


def negative_mask(logits: Tensor, groups: Tensor | None = None) -> Tensor:
    r"""Which pairs are negatives: :math:`j \neq i`, and with ``groups``, also
    :math:`g_j \neq g_i` (an anchor's copies are no negatives). An anchor that would
    keep no negative keeps its :math:`B - 1` instead, so that every row stays finite;
    :func:`anchor_mean` leaves it out of the loss.

    Args:
        logits (torch.Tensor): Scores, shape :math:`[B, B]`.
        groups (torch.Tensor, optional): Group (copy-class) ids, shape :math:`[B]`,
            integers. (default: :obj:`None`, every other row is a negative)

    Returns:
        torch.Tensor: Boolean, shape :math:`[B, B]`.

    Example:
        >>> negative_mask(torch.zeros(3, 3), torch.tensor([5, 5, 2])).int()
        tensor([[0, 0, 1],
                [0, 0, 1],
                [1, 1, 0]], dtype=torch.int32)
    """
    size = logits.size(0)
    negatives = ~torch.eye(size, dtype=torch.bool, device=logits.device)
    if groups is None:
        return negatives
    if not isinstance(groups, Tensor) or groups.shape != (size,) \
            or groups.is_floating_point() or groups.is_complex():
        shape = tuple(groups.shape) if isinstance(groups, Tensor) else type(groups).__name__
        raise ValueError(f"groups must be an integer tensor of shape [batch_size] = "
                         f"[{size}] (the copy-class id of each row), got {shape}")
    groups = groups.to(logits.device)
    distinct = negatives & (groups[:, None] != groups[None, :])
    return torch.where(distinct.any(dim=1, keepdim=True), distinct, negatives)


def anchor_mean(per_anchor: Tensor, negatives: Tensor, groups: Tensor | None) -> Tensor:
    r"""The mean of the per-anchor losses :math:`[B]` over the anchors that kept a
    negative (all of them without ``groups``); zero, with a graph, if none did."""
    if groups is None:
        return per_anchor.mean()
    kept = (negatives & (groups.to(negatives.device)[:, None]
                         != groups.to(negatives.device)[None, :])).any(dim=1)
    if bool(kept.all()):
        return per_anchor.mean()
    if not bool(kept.any()):
        return per_anchor.sum() * 0.0
    return per_anchor[kept].mean()


def negative_logsumexp(scores: Tensor, negatives: Tensor | None = None) -> Tensor:
    r"""Row-wise :math:`\log \sum_{j \in N(i)} \exp(\text{scores}_{ij})`, i.e. the
    log-sum-exp over each anchor's negatives :math:`N(i)` (the off-diagonal entries, or
    the ``True`` entries of ``negatives``, :func:`negative_mask`).

    Args:
        scores (torch.Tensor): Square score matrix, shape :math:`[B, B]`, :math:`B \geq 2`.
        negatives (torch.Tensor, optional): Boolean, shape :math:`[B, B]`.

    Returns:
        torch.Tensor: Shape :math:`[B]`.
    """
    if negatives is None:
        negatives = ~torch.eye(scores.size(0), dtype=torch.bool, device=scores.device)
    return scores.masked_fill(~negatives, -math.inf).logsumexp(dim=1)


def debiased_nce(logits: Tensor, log_neg_mass: Tensor, tau_plus: float,
                 temperature: float, num_neg: Tensor | None = None) -> Tensor:
    r"""The debiased contrastive objective shared by DCL and HCL, in log space.

    With :math:`p_i = e^{s_{ii}}`, :math:`N = B - 1` negatives (or the anchor's own
    count :math:`N_i`, ``num_neg``, where copies are left out) and a negative mass
    :math:`M_i` (the plain sum :math:`\sum_{j \neq i} e^{s_{ij}}` for DCL, the
    importance-reweighted sum for HCL), it computes

    .. math::
        N^g_i = \max\left(\frac{M_i - N \tau^+ p_i}{1 - \tau^+},\;
                N e^{-1/T}\right), \qquad
        \ell_i = -\log \frac{p_i}{p_i + N^g_i}
               = \operatorname{softplus}(\log N^g_i - s_{ii}),

    the per-anchor terms whose mean is the loss.

    Everything stays in log space, so no :math:`e^{s/T}` is ever formed and small
    temperatures cannot overflow. The one step that cannot be a log-sum-exp is the
    subtraction :math:`M_i - N \tau^+ p_i`, computed as
    :math:`\log M_i + \log(1 - N \tau^+ p_i / M_i)`: it loses relative precision when the
    two terms nearly cancel, exactly where the clamp to :math:`N e^{-1/T}` takes over
    (and, as in the reference code, no gradient flows through a clamped row's
    negatives).

    Args:
        logits (torch.Tensor): :math:`s_{ij}`, shape :math:`[B, B]`.
        log_neg_mass (torch.Tensor): :math:`\log M_i`, shape :math:`[B]`.
        tau_plus (float): Class prior :math:`\tau^+ \in [0, 1)`.
        temperature (float): The temperature :math:`T` used to build :obj:`logits`.
        num_neg (torch.Tensor, optional): Each anchor's :math:`N`, shape :math:`[B]`
            (default: :math:`B - 1` for all).

    Returns:
        torch.Tensor: The per-anchor losses, shape :math:`[B]`.
    """
    if num_neg is None:
        num_neg = logits.new_full((logits.size(0),), logits.size(0) - 1)
    log_num_neg = num_neg.to(logits.dtype).log()
    log_pos = logits.diagonal()
    log_floor = log_num_neg - 1.0 / temperature
    log_ng = log_neg_mass
    if tau_plus > 0:
        # log of N * tau_plus * p_i / M_i; the debiased mass is positive iff it is < 0.
        log_ratio = log_pos - log_neg_mass + log_num_neg + math.log(tau_plus)
        valid = log_ratio < 0
        safe_ratio = torch.where(valid, log_ratio, torch.full_like(log_ratio, -1.0))
        debiased = (log_neg_mass + torch.log1p(-torch.exp(safe_ratio))
                    - math.log1p(-tau_plus))
        log_ng = torch.where(valid, debiased, log_floor)
    log_ng = torch.maximum(log_ng, log_floor)
    return F.softplus(log_ng - log_pos)
