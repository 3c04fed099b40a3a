r"""Graph encoders and heads: GraphCL's GIN encoder, MVGRL's GCN encoder, projection heads."""
from graphsampler.nn.gcn import GCNEncoder
from graphsampler.nn.gin import GINEncoder
from graphsampler.nn.heads import MLPShortcutHead, ProjectionHead

__all__ = ["GINEncoder", "ProjectionHead", "GCNEncoder", "MLPShortcutHead"]
