r"""The Jensen-Shannon local-global loss of InfoGraph (Sun et al., 2020) and MVGRL
(Hassani & Khasahmadi, 2020)."""
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from graphsampler.precision import float32_loss

_LOG2 = math.log(2.0)


@float32_loss
def local_global_jsd(local: Tensor, global_: Tensor, batch: Tensor) -> Tensor:
    r"""MVGRL's (and InfoGraph's) ``local_global_loss_`` with ``measure='JSD'``.

    Scores every node :math:`v` against every graph :math:`g` of the batch,
    :math:`s_{vg} = \langle \text{local}_v, \text{global}_g \rangle`. The pair is
    positive when :math:`v` belongs to :math:`g` (``batch[v] == g``), negative
    otherwise. With :math:`N` nodes and :math:`B` graphs,

    .. math::
        \mathcal{L} = \frac{1}{N (B - 1)} \sum_{(v, g) \text{ neg}}
            \left(\operatorname{sp}(-s_{vg}) + s_{vg} - \log 2\right)
        - \frac{1}{N} \sum_{(v, g) \text{ pos}}
            \left(\log 2 - \operatorname{sp}(-s_{vg})\right),

    :math:`\operatorname{sp}` the softplus. The averaging is the reference code's:
    each node has one positive and :math:`B - 1` negatives. (The reference pads every
    graph to the batch's largest and also counts padded rows in :math:`N`; a PyG
    batch has no padding, so :math:`N` counts real nodes only.) MVGRL sums this loss in
    both directions: ``local_global_jsd(local_1, global_2, batch) +
    local_global_jsd(local_2, global_1, batch)``.

    The masks come from a one-hot of :obj:`batch`; the cost is one
    :math:`[N, B]` score matrix.

    Args:
        local (torch.Tensor): Node representations, shape :math:`[N, d]`,
            :math:`N \geq 1`.
        global_ (torch.Tensor): Graph representations, shape :math:`[B, d]`,
            :math:`B \geq 2`, same dtype and device as :obj:`local`.
        batch (torch.Tensor): Graph of every node, shape :math:`[N]`, int64, values in
            :math:`[0, B)`.

    Returns:
        torch.Tensor: The scalar loss, at least :math:`-2 \log 2`; float32 for
        bfloat16 or float16 inputs (:func:`~graphsampler.precision.float32_loss`).

    Example:
        >>> local = torch.randn(30, 64)         # 30 nodes
        >>> global_ = torch.randn(4, 64)        # 4 graphs
        >>> batch = torch.arange(4).repeat_interleave(torch.tensor([5, 10, 7, 8]))
        >>> loss = local_global_jsd(local, global_, batch)  # scalar
    """
    _check_inputs(local, global_, batch)
    num_nodes, num_graphs = local.size(0), global_.size(0)
    scores = local @ global_.t()
    positive = F.one_hot(batch, num_graphs).to(scores.dtype)
    softplus = F.softplus(-scores)
    e_pos = ((_LOG2 - softplus) * positive).sum() / num_nodes
    e_neg = ((softplus + scores - _LOG2) * (1.0 - positive)).sum()
    return e_neg / (num_nodes * (num_graphs - 1)) - e_pos


def _check_inputs(local: Tensor, global_: Tensor, batch: Tensor) -> None:
    for name, value in (("local", local), ("global_", global_)):
        if not value.is_floating_point() or value.dim() != 2:
            raise ValueError(f"{name} must be a 2-D floating-point tensor, got shape "
                             f"{tuple(value.shape)} and dtype {value.dtype}")
    if local.size(1) != global_.size(1):
        raise ValueError(f"local and global_ must have the same feature size, got "
                         f"{local.size(1)} and {global_.size(1)}; project both to one "
                         f"size (MVGRL's MLP heads do)")
    if local.dtype != global_.dtype or local.device != global_.device:
        raise ValueError(f"local and global_ must share dtype and device, got "
                         f"{local.dtype} on {local.device} and {global_.dtype} on "
                         f"{global_.device}")
    if local.size(0) < 1:
        raise ValueError("local must hold at least one node")
    if global_.size(0) < 2:
        raise ValueError(f"the batch must hold at least 2 graphs (negatives are the "
                         f"other graphs), got {global_.size(0)}; use a batch size > 1")
    if batch.dim() != 1 or batch.numel() != local.size(0) or batch.dtype != torch.long \
            or batch.device != local.device:
        raise ValueError(f"batch must be a 1-D int64 tensor with one entry per node "
                         f"({local.size(0)}) on {local.device}, got shape "
                         f"{tuple(batch.shape)} and dtype {batch.dtype} on "
                         f"{batch.device}")
    if batch.min() < 0 or batch.max() >= global_.size(0):
        raise ValueError(f"batch values must be graph indices in "
                         f"[0, {global_.size(0)}) (one row of global_ per graph)")
