r"""Contrastive methods: a model plus its training step, behind one interface."""
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.methods.graphcl import GraphCL
from graphsampler.methods.mvgrl import MVGRL, load_mvgrl_dataset

__all__ = ["ContrastiveMethod", "GraphCL", "MVGRL", "load_mvgrl_dataset"]
