r"""Batched graph augmentations (GraphCL) and PPR diffusion (MVGRL), applied to a whole
collated batch on its device."""
from graphsampler.augment.base import Augmentation
from graphsampler.augment.diffusion import add_diffusion, ppr_diffusion
from graphsampler.augment.drop_nodes import DropNodes
from graphsampler.augment.mask_attributes import MaskAttributes
from graphsampler.augment.perturb_edges import PerturbEdges
from graphsampler.augment.ppr import ppr_diffusion_graphs
from graphsampler.augment.random_choice import (
    GRAPHCL_AUGMENTATIONS,
    Identity,
    RandomChoice,
    graphcl_augmentation,
)
from graphsampler.augment.subgraph import Subgraph

__all__ = [
    "Augmentation",
    "DropNodes",
    "PerturbEdges",
    "MaskAttributes",
    "Subgraph",
    "Identity",
    "RandomChoice",
    "graphcl_augmentation",
    "GRAPHCL_AUGMENTATIONS",
    "ppr_diffusion",
    "ppr_diffusion_graphs",
    "add_diffusion",
]
