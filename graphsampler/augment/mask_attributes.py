r"""Attribute masking (GraphCL's ``mask_nodes``), batched."""
from __future__ import annotations

from typing import Literal

import torch
from torch_geometric.data import Batch

from graphsampler.augment._batch import BatchLayout, check_ratio, sample_per_group, shallow_copy
from graphsampler.augment.base import Augmentation

MaskFill = Literal['gaussian', 'mean', 'zeros']
_FILLS = ('gaussian', 'mean', 'zeros')


class MaskAttributes(Augmentation):
    r"""Overwrites the feature row ``x`` of ``floor(ratio * n)`` uniformly chosen nodes of
    every graph (:math:`n` its node count).

    The fill follows the reference code: ``'gaussian'`` draws every masked entry from
    :math:`\mathcal{N}(0.5, 0.5^2)` as GraphCL's ``unsupervised_TU/aug.py`` does;
    ``'mean'`` writes the graph's mean feature row (taken before masking) as its
    ``semisupervised_TU`` does; ``'zeros'`` writes zeros. Nodes and edges are unchanged.

    Args:
        ratio (float, optional): Fraction of each graph's nodes masked, in
            :math:`[0, 1)`. (default: :obj:`0.1`, GraphCL's value)
        fill (str, optional): ``'gaussian'``, ``'mean'`` or ``'zeros'``.
            (default: :obj:`'gaussian'`)

    The batch must carry floating-point node features ``x`` of shape :math:`[N, F]`;
    without them there is nothing to mask and a :class:`ValueError` says so (give
    featureless datasets a constant or degree feature first).

    Example:
        >>> from torch_geometric.data import Batch, Data
        >>> edges = torch.tensor([[0, 1], [1, 0]])
        >>> batch = Batch.from_data_list([Data(x=torch.ones(10, 3), edge_index=edges)] * 2)
        >>> view = MaskAttributes(ratio=0.1, fill='zeros')(batch)
        >>> int((view.x == 0).all(dim=1).sum())  # one row per graph
        2
    """

    def __init__(self, ratio: float = 0.1, fill: MaskFill = 'gaussian') -> None:
        self.ratio = check_ratio(ratio, 'ratio', 'the fraction of nodes masked per graph')
        if fill not in _FILLS:
            raise ValueError(f"fill must be one of {', '.join(_FILLS)}, got {fill!r}")
        self.fill = fill

    def augment(self, batch: Batch, layout: BatchLayout,
                generator: torch.Generator | None) -> Batch:
        x = batch.x
        if x is None or x.dim() != 2 or not x.is_floating_point():
            got = 'none' if x is None else f"dtype {x.dtype}, shape {tuple(x.shape)}"
            raise ValueError(
                "MaskAttributes needs floating-point node features batch.x of shape [N, F], "
                f"got {got}; give featureless graphs a constant or degree feature first")
        masked = sample_per_group(layout.node_ptr, layout.count(layout.num_nodes, self.ratio),
                                  generator).nonzero().view(-1)
        if self.fill == 'gaussian':
            rows = 0.5 + 0.5 * torch.randn(masked.numel(), x.size(1), generator=generator,
                                           device=x.device, dtype=x.dtype)
        elif self.fill == 'mean':
            means = torch.segment_reduce(x, 'mean', lengths=layout.num_nodes, axis=0)
            rows = means[layout.node_graph[masked]]
        else:
            rows = x.new_zeros(masked.numel(), x.size(1))
        out = shallow_copy(batch)
        out.x = x.index_put((masked,), rows)
        return out
