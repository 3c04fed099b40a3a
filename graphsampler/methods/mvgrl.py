r"""MVGRL (Hassani & Khasahmadi, ICML 2020), graph level."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphsampler.losses.jsd import local_global_jsd
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.nn.gcn import GCNEncoder
from graphsampler.nn.heads import MLPShortcutHead


class MVGRL(ContrastiveMethod):
    r"""MVGRL: two GCN encoders, one over the adjacency and one over the PPR diffusion,
    trained by contrasting each view's node representations with the other view's graph
    representations (JSD, both directions).

    As in the reference code, the local and global MLP heads (with linear shortcut) are
    shared by the two views, and the graph embedding is the sum of both views' global
    head outputs; it is what the sampler's bank holds and what evaluation uses. Unlike
    the reference, whose GCN layers sat in a plain Python list and never trained, both
    encoders train.

    Batches need ``diff_edge_index`` and ``diff_edge_weight``
    (:func:`graphsampler.data.prepare.load_mvgrl_dataset`).

    Args:
        in_channels (int): Node feature width.
        hidden_channels (int): GCN width. (default: :obj:`512`)
        num_layers (int): GCN layers per view. (default: :obj:`4`)

    Example:
        .. code-block:: python

            ds = load_mvgrl_dataset("MUTAG")
            model = MVGRL(ds.num_features)
            loss, z = model.training_step(batch)   # z: [B, 512]
    """

    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 num_layers: int = 4) -> None:
        super().__init__()
        self.adjacency = GCNEncoder(in_channels, hidden_channels, num_layers, normalize=True)
        self.diffusion = GCNEncoder(in_channels, hidden_channels, num_layers, normalize=False)
        self.local_head = MLPShortcutHead(hidden_channels, hidden_channels)
        self.global_head = MLPShortcutHead(num_layers * hidden_channels, hidden_channels)

    def _views(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        if getattr(batch, "diff_edge_index", None) is None:
            raise ValueError("MVGRL needs the diffusion view: load the dataset with "
                             "graphsampler.data.load_mvgrl_dataset (or add_diffusion)")
        l1, g1 = self.adjacency(batch.x, batch.edge_index, batch.batch,
                                num_graphs=batch.num_graphs)
        l2, g2 = self.diffusion(batch.x, batch.diff_edge_index, batch.batch,
                                num_graphs=batch.num_graphs,
                                edge_weight=batch.diff_edge_weight)
        return (self.local_head(l1), self.local_head(l2),
                self.global_head(g1), self.global_head(g2))

    def training_step(self, batch: Batch,
                      generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        local_1, local_2, global_1, global_2 = self._views(batch)
        loss = (local_global_jsd(local_1, global_2, batch.batch)
                + local_global_jsd(local_2, global_1, batch.batch))
        return loss, global_1 + global_2

    @torch.no_grad()
    def embed(self, batch: Batch) -> Tensor:
        _, _, global_1, global_2 = self._views(batch)
        return global_1 + global_2
