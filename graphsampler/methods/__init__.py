r"""Contrastive methods: a model plus its training step, behind one interface."""
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.methods.graphcl import GraphCL
from graphsampler.methods.mvgrl import MVGRL

__all__ = ["ContrastiveMethod", "GraphCL", "MVGRL"]
