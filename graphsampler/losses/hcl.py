r"""Hard negative sampling loss (Robinson et al., ICLR 2021)."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from graphsampler.losses._similarity import (
    anchor_mean,
    check_tau_plus,
    check_temperature,
    cosine_logits,
    debiased_nce,
    negative_logsumexp,
    negative_mask,
)
from graphsampler.precision import float32_loss


class HCLLoss(torch.nn.Module):
    r"""The hard-negative loss of `"Contrastive Learning with Hard Negative Samples"
    <https://arxiv.org/abs/2010.04592>`_ (reference code: ``joshr17/HCL``).

    It is :class:`~graphsampler.losses.dcl.DCLLoss` with each negative importance
    weighted by :math:`e^{\beta s_{ij}}`, so that negatives close to the anchor count
    more. With :math:`s_{ij} = \cos(z1_i, z2_j) / T`, :math:`p_i = e^{s_{ii}}` and the
    :math:`N = B - 1` negatives :math:`j \neq i`,

    .. math::
        R_i = \frac{\sum_{j \neq i} e^{(\beta + 1) s_{ij}}}
              {\frac{1}{N} \sum_{j \neq i} e^{\beta s_{ij}}}, \qquad
        N^g_i = \max\left(\frac{R_i - N \tau^+ p_i}{1 - \tau^+},\;
                N e^{-1/T}\right), \qquad
        \mathcal{L} = \frac{1}{B} \sum_i -\log \frac{p_i}{p_i + N^g_i}.

    :math:`\beta = 0` gives DCL exactly. The negatives are the same as
    :class:`~graphsampler.losses.infonce.InfoNCELoss`'s (the other rows of ``z2``; the
    reference image code uses both views, :math:`N = 2B - 2`). :math:`\log R_i` is a
    difference of two log-sum-exps, so large :math:`\beta` or small :math:`T` do not
    overflow (see :func:`~graphsampler.losses._similarity.debiased_nce` for the rest).

    Args:
        temperature (float, optional): The temperature :math:`T > 0`.
            (default: :obj:`0.2`)
        tau_plus (float, optional): The class prior :math:`\tau^+ \in [0, 1)`.
            (default: :obj:`0.1`)
        beta (float, optional): Concentration :math:`\beta \geq 0` of the hardness
            weights. (default: :obj:`1.0`)

    Example:
        >>> loss_fn = HCLLoss(temperature=0.2, tau_plus=0.1, beta=1.0)
        >>> z1, z2 = torch.randn(128, 96), torch.randn(128, 96)
        >>> loss = loss_fn(z1, z2)  # scalar
    """
    def __init__(self, temperature: float = 0.2, tau_plus: float = 0.1,
                 beta: float = 1.0) -> None:
        super().__init__()
        self.temperature = check_temperature(temperature)
        self.tau_plus = check_tau_plus(tau_plus)
        beta = float(beta)
        if not math.isfinite(beta) or beta < 0:
            raise ValueError(f"beta must be a finite number >= 0 (0 gives DCL, larger "
                             f"values weight hard negatives more), got {beta}")
        self.beta = beta

    @float32_loss
    def forward(self, z1: Tensor, z2: Tensor, groups: Tensor | None = None) -> Tensor:
        r"""Args:
            z1 (torch.Tensor): Anchor view, shape :math:`[B, d]`, :math:`B \geq 2`.
            z2 (torch.Tensor): Positive view, shape :math:`[B, d]`.
            groups (torch.Tensor, optional): Copy-class ids of the rows, shape
                :math:`[B]` (``batch.copy_id``): row :math:`j` is no negative of anchor
                :math:`i` when :math:`g_j = g_i`, so that an anchor's copies (graphs
                isomorphic to it) are not pushed away. An anchor whose every other
                row is a copy is left out of the mean. (default: :obj:`None`)

        Returns:
            torch.Tensor: The scalar loss, float32 for bfloat16 or float16 inputs
            (:func:`~graphsampler.precision.float32_loss`).
        """
        logits = cosine_logits(z1, z2, self.temperature)
        negatives = negative_mask(logits, groups)
        num_neg = negatives.sum(dim=1)
        log_reweighted = (negative_logsumexp((self.beta + 1.0) * logits, negatives)
                          - negative_logsumexp(self.beta * logits, negatives)
                          + num_neg.to(logits.dtype).log())
        per_anchor = debiased_nce(logits, log_reweighted, self.tau_plus, self.temperature,
                                  num_neg)
        return anchor_mean(per_anchor, negatives, groups)

    def extra_repr(self) -> str:
        return (f"temperature={self.temperature}, tau_plus={self.tau_plus}, "
                f"beta={self.beta}")
