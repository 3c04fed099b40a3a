r"""GraphCL (You et al., NeurIPS 2020), unsupervised TU setting."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch

from graphsampler.augment.random_choice import graphcl_augmentation
from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss
from graphsampler.losses.infonce import InfoNCELoss
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.nn.gin import GINEncoder
from graphsampler.nn.heads import ProjectionHead

#: What GraphCL can put in the sampler's bank (:class:`GraphCL`'s ``bank``).
BANK_CONTENTS = ("projection", "both", "encoder")

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
    the batch serving as a negative. What goes to the sampler's bank is ``bank``: the
    first view's projections (the default), both views' projections (each normalised,
    concatenated, as BatchSampler's released code keeps them), or the encoder's output
    for the first view; evaluation uses the encoder's graph embeddings (96-d by
    default).

    Args:
        in_channels (int): Node feature width.
        loss (str): ``infonce``, ``dcl`` or ``hcl``. (default: :obj:`"infonce"`)
        hidden_channels (int): GIN width. (default: :obj:`32`)
        num_layers (int): GIN layers. (default: :obj:`3`)
        temperature (float): Loss temperature. (default: :obj:`0.2`)
        augmentation (str): Augmentation of the second view, a name understood by
            :func:`graphsampler.augment.graphcl_augmentation`. (default: :obj:`"random2"`)
        first_view (str): Augmentation of the first view. (default: :obj:`"none"`)
        bank (str): What :meth:`training_step` returns for the bank: ``"projection"``,
            ``"both"`` or ``"encoder"``. (default: :obj:`"projection"`)
        exclude_copies (bool): Pass ``batch.copy_id`` (isomorphism classes,
            :func:`graphsampler.data.copies.attach_copy_ids`) to the loss as ``groups``,
            so that an anchor's copies are not among its negatives; a batch without
            ``copy_id`` is then an error. (default: :obj:`False`)

    Example:
        .. code-block:: python

            model = GraphCL(in_channels=7)
            loss, z = model.training_step(batch)   # batch: a collated PyG Batch
            loss.backward()
    """

    def __init__(self, in_channels: int, loss: str = "infonce", *, hidden_channels: int = 32,
                 num_layers: int = 3, temperature: float = 0.2,
                 augmentation: str = "random2", first_view: str = "none",
                 bank: str = "projection", exclude_copies: bool = False) -> None:
        super().__init__()
        if bank not in BANK_CONTENTS:
            raise ValueError(f"bank must be one of {', '.join(BANK_CONTENTS)}, got {bank!r}")
        self.bank = bank
        if not isinstance(exclude_copies, bool):
            raise ValueError(f"exclude_copies must be True or False, got {exclude_copies!r}")
        self.exclude_copies = exclude_copies
        self.encoder = GINEncoder(in_channels, hidden_channels, num_layers)
        self.head = ProjectionHead(self.encoder.out_channels)
        self.loss = make_loss(loss, temperature)
        self.first_view = graphcl_augmentation(first_view)
        self.second_view = graphcl_augmentation(augmentation)

    def _encode(self, batch: Batch) -> Tensor:
        return self.encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)

    def training_step(self, batch: Batch,
                      generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        h1 = self._encode(self.first_view(batch, generator))
        z1 = self.head(h1)
        z2 = self.head(self._encode(self.second_view(batch, generator)))
        if self.bank == "projection":
            kept = z1
        elif self.bank == "both":
            kept = torch.cat([F.normalize(z1, dim=1), F.normalize(z2, dim=1)], dim=1)
        else:
            kept = h1
        return self.loss(z1, z2, self._copy_groups(batch)), kept

    def _copy_groups(self, batch: Batch) -> Tensor | None:
        if not self.exclude_copies:
            return None
        groups = getattr(batch, "copy_id", None)
        if groups is None:
            raise ValueError("exclude_copies needs batch.copy_id: load the dataset through "
                             "graphsampler.data.copies.attach_copy_ids(dataset)")
        return groups

    @torch.no_grad()
    def embed(self, batch: Batch) -> Tensor:
        return self.encoder(batch.x, batch.edge_index, batch.batch, batch.num_graphs)
