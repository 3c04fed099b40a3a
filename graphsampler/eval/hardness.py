r"""How hard a mini-batch is for a contrastive loss: the similarity of its negatives."""
import torch
import torch.nn.functional as F
from torch import Tensor

#: Cosine similarity at and above which two embeddings count as twins: the encoder
#: does not tell them apart (1-WL-equivalent graphs under a GIN give cosine 1).
TWIN_COSINE = 0.999


def batch_hardness(z: Tensor, labels: Tensor | None = None) -> dict[str, float]:
    r"""Summarises the in-batch negative pairs of one mini-batch.

    Every ordered pair :math:`(i, j)` with :math:`i \neq j` of the batch is a negative
    pair of InfoNCE-style losses. With the L2-normalised rows :math:`\hat z_i`, the
    hardness of a pair is its cosine similarity :math:`\hat z_i^\top \hat z_j`; a hard
    batch (what the proximity sampler aims for) has a high mean. With class labels,
    the pairs that share a class are *false negatives*, and their fraction shows what
    a hard batch costs.

    Rows of all zeros have cosine :math:`0` with everything (as
    :func:`torch.nn.functional.normalize` leaves them zero).

    Args:
        z (torch.Tensor): Embeddings of the batch, shape :math:`[B, d]`,
            :math:`B \geq 2`, finite, on any device.
        labels (torch.Tensor, optional): Class labels, shape :math:`[B]`; moved to
            the device of :obj:`z`. (default: :obj:`None`)

    Returns:
        dict[str, float]: ``"neg_cos_mean"`` and ``"neg_cos_max"``, the mean and the
        maximum cosine similarity over the :math:`B (B - 1)` negative pairs,
        ``"twin_rate"``, the fraction of those pairs with cosine at least
        :data:`TWIN_COSINE` (a graph contrasted with a copy of itself), and, when
        :obj:`labels` is given, ``"false_negative_rate"``, the fraction of those pairs
        whose two labels are equal.

    Example:
        >>> z, y = torch.randn(128, 96), torch.randint(0, 2, (128,))
        >>> stats = batch_hardness(z, y)
        >>> sorted(stats)
        ['false_negative_rate', 'neg_cos_max', 'neg_cos_mean', 'twin_rate']
    """
    if z.dim() != 2 or z.size(0) < 2:
        raise ValueError(f"z must be a [B, d] batch of embeddings with B >= 2 (a batch "
                         f"of one has no negative pairs), got shape {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("z holds NaN or infinite values; pass the embeddings of a "
                         "model that did not diverge")
    size = z.size(0)
    negative = ~torch.eye(size, dtype=torch.bool, device=z.device)
    z_hat = F.normalize(z.float() if not z.is_floating_point() else z, dim=1)
    cos = (z_hat @ z_hat.t())[negative]
    stats = {"neg_cos_mean": cos.mean().item(), "neg_cos_max": cos.max().item(),
             "twin_rate": (cos >= TWIN_COSINE).double().mean().item()}
    if labels is not None:
        if labels.shape != (size, ):
            raise ValueError(f"labels must hold one label per row of z, shape "
                             f"({size},), got {tuple(labels.shape)}")
        labels = labels.to(z.device)
        same = labels.unsqueeze(0) == labels.unsqueeze(1)
        stats["false_negative_rate"] = same[negative].double().mean().item()
    return stats


__all__ = ["TWIN_COSINE", "batch_hardness"]
