r"""GraphCL (You et al., NeurIPS 2020), unsupervised TU setting."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Batch

from graphsampler.augment.random_choice import graphcl_augmentation
from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss
from graphsampler.losses.infonce import InfoNCELoss
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.nn.gin import GINEncoder
from graphsampler.nn.heads import ProjectionHead

#: The losses GraphCL can be trained with, by CLI name.
LOSSES = {"infonce": InfoNCELoss, "dcl": DCLLoss, "hcl": HCLLoss}


def make_loss(name: str, temperature: float = 0.2) -> torch.nn.Module:
    r"""The contrastive loss called ``name`` (``infonce``, ``dcl`` or ``hcl``)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r} for GraphCL; choose one of {sorted(LOSSES)}")
    return LOSSES[name](temperature=temperature)


class GraphCL(ContrastiveMethod):
    r"""GraphCL: a GIN encoder and projection head trained to match two views of a graph.

    As in GraphCL's ``unsupervised_TU`` code, the first view is the graph as it is and the
    second an augmentation of it (``random2``: node dropping or subgraph, chosen per
    graph); the loss contrasts the projections of the two views, every other graph of
    the batch serving as a negative. The projections of the first view go to the
    sampler's bank; evaluation uses the encoder's graph embeddings (96-d by default).

    Args:
        in_channels (int): Node feature width.
        loss (str): ``infonce``, ``dcl`` or ``hcl``. (default: :obj:`"infonce"`)
        hidden_channels (int): GIN width. (default: :obj:`32`)
        num_layers (int): GIN layers. (default: :obj:`3`)
        temperature (float): Loss temperature. (default: :obj:`0.2`)
        augmentation (str): Augmentation of the second view, a name understood by
            :func:`graphsampler.augment.graphcl_augmentation`. (default: :obj:`"random2"`)
        first_view (str): Augmentation of the first view. (default: :obj:`"none"`)

    Example:
        >>> model = GraphCL(in_channels=7)
        >>> loss, z = model.training_step(batch)   # batch: a collated PyG Batch
        >>> loss.backward()
    """

    def __init__(self, in_channels: int, loss: str = "infonce", *, hidden_channels: int = 32,
                 num_layers: int = 3, temperature: float = 0.2,
                 augmentation: str = "random2", first_view: str = "none") -> None:
        super().__init__()
        self.encoder = GINEncoder(in_channels, hidden_channels, num_layers)
        self.head = ProjectionHead(self.encoder.out_channels)
        self.loss = make_loss(loss, temperature)
        self.first_view = graphcl_augmentation(first_view)
        self.second_view = graphcl_augmentation(augmentation)

    def _project(self, batch: Batch) -> Tensor:
        h = self.encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
        return self.head(h)

    def training_step(self, batch: Batch,
                      generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        z1 = self._project(self.first_view(batch, generator))
        z2 = self._project(self.second_view(batch, generator))
        return self.loss(z1, z2), z1

    @torch.no_grad()
    def embed(self, batch: Batch) -> Tensor:
        return self.encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
