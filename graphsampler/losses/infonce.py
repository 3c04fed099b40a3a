r"""InfoNCE as GraphCL (You et al., 2020) implements it for unsupervised TU graphs."""
from __future__ import annotations

import torch
from torch import Tensor

from graphsampler.losses._similarity import (
    anchor_mean,
    check_temperature,
    cosine_logits,
    negative_logsumexp,
    negative_mask,
)
from graphsampler.precision import float32_loss


class InfoNCELoss(torch.nn.Module):
    r"""GraphCL's contrastive loss (``loss_cal`` in its ``unsupervised_TU/gsimclr.py``).

    Row :math:`i` of ``z1`` and row :math:`i` of ``z2`` are two augmented views of
    graph :math:`i`. With :math:`s_{ij} = \cos(z1_i, z2_j) / T`,

    .. math::
        \mathcal{L} = \frac{1}{B} \sum_{i=1}^{B}
            -\log \frac{e^{s_{ii}}}{\sum_{j \neq i} e^{s_{ij}}}.

    This replicates the reference code exactly, which differs from SimCLR's NT-Xent in
    two ways: the positive is *excluded* from the denominator (so the loss can be
    negative), and the only negatives are the :math:`B - 1` other graphs of the second
    view, in one direction (``z1`` anchors against ``z2``; no intra-view negatives, no
    symmetrised term). :class:`~graphsampler.losses.dcl.DCLLoss` and
    :class:`~graphsampler.losses.hcl.HCLLoss` use the same negative set, so the three
    losses differ only in how they weight negatives. Computed with a log-sum-exp, so
    small temperatures do not overflow.

    Args:
        temperature (float, optional): The temperature :math:`T > 0`.
            (default: :obj:`0.2`, GraphCL's value)

    Example:
        >>> loss_fn = InfoNCELoss(temperature=0.2)
        >>> z1, z2 = torch.randn(128, 96), torch.randn(128, 96)
        >>> loss = loss_fn(z1, z2)  # scalar
    """
    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        self.temperature = check_temperature(temperature)

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
        per_anchor = negative_logsumexp(logits, negatives) - logits.diagonal()
        return anchor_mean(per_anchor, negatives, groups)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
