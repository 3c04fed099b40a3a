r"""Projection heads that map embeddings into the space the loss contrasts: GraphCL's
projection head and MVGRL's MLP head with a linear shortcut."""

import torch
from torch import Tensor
from torch.nn import Linear, PReLU, ReLU, Sequential
from torch_geometric.nn.inits import glorot, zeros

from graphsampler.nn._checks import check_positive_ints


class ProjectionHead(torch.nn.Module):
    r"""GraphCL's projection head (``proj_head`` in ``unsupervised_TU/gsimclr.py``):
    ``Linear(in, in) -> ReLU -> Linear(in, out)``.

    The loss is computed on its output; downstream evaluation uses the encoder's
    embedding before the head. Linear layers start Xavier-uniform with zero bias, as
    GraphCL's ``init_emb`` does.

    Args:
        in_channels (int): Size :math:`d` of the input embedding (also the hidden
            width).
        out_channels (int, optional): Output size :math:`d'`. (default: :obj:`None`,
            :math:`d' = d` as in GraphCL)

    Example:
        >>> head = ProjectionHead(96)
        >>> z = head(torch.randn(128, 96))  # [128, 96]
    """
    def __init__(self, in_channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        check_positive_ints(in_channels=in_channels, out_channels=out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mlp = Sequential(Linear(in_channels, in_channels), ReLU(),
                              Linear(in_channels, out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Xavier-uniform weights and zero biases, as GraphCL's ``init_emb``."""
        for layer in (self.mlp[0], self.mlp[2]):
            glorot(layer.weight)
            zeros(layer.bias)

    def forward(self, x: Tensor) -> Tensor:
        r"""Args:
            x (torch.Tensor): Embeddings, shape :math:`[B, d]`.

        Returns:
            torch.Tensor: Projections, shape :math:`[B, d']`.
        """
        if not x.is_floating_point() or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must be a floating-point tensor of shape "
                             f"[batch_size, {self.in_channels}] (in_channels), got "
                             f"shape {tuple(x.shape)} and dtype {x.dtype}")
        return self.mlp(x)


class MLPShortcutHead(torch.nn.Module):
    r"""MVGRL's MLP head (``MLP`` in its ``graph/train.py``): three
    ``Linear -> PReLU`` layers plus a linear shortcut,
    :math:`f(x) = \text{MLP}(x) + W_s x + b_s`.

    MVGRL uses two heads shared by both views: a local one on node representations
    (``MLPShortcutHead(h, h)``) and a global one on graph representations
    (``MLPShortcutHead(L * h, h)``); the downstream graph embedding is the sum of the
    global head's outputs of both views. PyTorch's default initialisation, as the
    reference.

    Args:
        in_channels (int): Input size :math:`d`.
        out_channels (int): Output size (and hidden width) :math:`d'`.

    Example:
        >>> head = MLPShortcutHead(2048, 512)
        >>> z = head(torch.randn(128, 2048))  # [128, 512]
    """
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mlp = Sequential(
            Linear(in_channels, out_channels), PReLU(),
            Linear(out_channels, out_channels), PReLU(),
            Linear(out_channels, out_channels), PReLU())
        self.shortcut = Linear(in_channels, out_channels)

    def reset_parameters(self) -> None:
        r"""PyTorch's default initialisation, PReLU slopes back to 0.25."""
        for module in (*self.mlp, self.shortcut):
            module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        r"""Args:
            x (torch.Tensor): Inputs, shape :math:`[*, d]`.

        Returns:
            torch.Tensor: Shape :math:`[*, d']`.
        """
        if not x.is_floating_point() or x.dim() < 1 or x.size(-1) != self.in_channels:
            raise ValueError(f"x must be a floating-point tensor of shape "
                             f"[..., {self.in_channels}] (in_channels), got shape "
                             f"{tuple(x.shape)} and dtype {x.dtype}")
        return self.mlp(x) + self.shortcut(x)
