r"""Contrastive losses, one per module: InfoNCE (GraphCL's NT-Xent), DCL, HCL, JSD."""
from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss
from graphsampler.losses.infonce import InfoNCELoss
from graphsampler.losses.jsd import local_global_jsd

__all__ = ["InfoNCELoss", "DCLLoss", "HCLLoss", "local_global_jsd"]
