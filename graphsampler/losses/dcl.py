r"""Debiased contrastive loss (Chuang et al., NeurIPS 2020)."""
from __future__ import annotations

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


class DCLLoss(torch.nn.Module):
    r"""The debiased contrastive loss of `"Debiased Contrastive Learning"
    <https://arxiv.org/abs/2007.00224>`_ (reference code: ``chingyaoc/DCL``).

    Some "negatives" of a batch share the anchor's latent class; DCL corrects the
    negative term for a class prior :math:`\tau^+`. With
    :math:`s_{ij} = \cos(z1_i, z2_j) / T`, :math:`p_i = e^{s_{ii}}` and the
    :math:`N = B - 1` negatives :math:`j \neq i`,

    .. math::
        N^g_i = \max\left(\frac{\sum_{j \neq i} e^{s_{ij}} - N \tau^+ p_i}
                {1 - \tau^+},\; N e^{-1/T}\right), \qquad
        \mathcal{L} = \frac{1}{B} \sum_i -\log \frac{p_i}{p_i + N^g_i}.

    The negatives are the same as :class:`~graphsampler.losses.infonce.InfoNCELoss`'s
    (the other rows of ``z2``; the reference image code instead uses both views,
    :math:`N = 2B - 2`), so the losses differ only in how negatives are weighted.
    With :math:`\tau^+ = 0` the clamp never binds (every :math:`e^{s_{ij}} \geq
    e^{-1/T}`), and DCL is the cross-entropy of each row of :math:`s` against its
    diagonal: per anchor, :math:`\operatorname{softplus}` of GraphCL's InfoNCE term.
    Evaluated in log space (see :func:`~graphsampler.losses._similarity.debiased_nce`).

    Args:
        temperature (float, optional): The temperature :math:`T > 0`.
            (default: :obj:`0.2`)
        tau_plus (float, optional): The class prior :math:`\tau^+ \in [0, 1)`.
            (default: :obj:`0.1`)

    Example:
        >>> loss_fn = DCLLoss(temperature=0.2, tau_plus=0.1)
        >>> z1, z2 = torch.randn(128, 96), torch.randn(128, 96)
        >>> loss = loss_fn(z1, z2)  # scalar
    """
    def __init__(self, temperature: float = 0.2, tau_plus: float = 0.1) -> None:
        super().__init__()
        self.temperature = check_temperature(temperature)
        self.tau_plus = check_tau_plus(tau_plus)

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
        per_anchor = debiased_nce(logits, negative_logsumexp(logits, negatives),
                                  self.tau_plus, self.temperature, negatives.sum(dim=1))
        return anchor_mean(per_anchor, negatives, groups)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, tau_plus={self.tau_plus}"
