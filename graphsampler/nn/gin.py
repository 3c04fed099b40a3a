r"""The GIN graph encoder of GraphCL (You et al., 2020), unsupervised TU setting."""

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Linear, ModuleList, ReLU, Sequential
from torch_geometric.nn.inits import glorot, zeros

from graphsampler.nn._checks import (
    check_batch_vector,
    check_dtype,
    check_edge_index,
    check_positive_ints,
)
from graphsampler.nn.adjacency import Adjacency
from graphsampler.nn.readout import sum_readout


class GINEncoder(torch.nn.Module):
    r"""GraphCL's graph encoder (``Encoder`` in its ``unsupervised_TU/gin.py``).

    Each of the :obj:`num_layers` layers applies a :class:`GINLayer` with the MLP
    ``Linear -> ReLU -> Linear``, then ReLU, then :class:`~torch.nn.BatchNorm1d`, in that
    order. The graph embedding is the sum over
    the graph's nodes (:func:`~graphsampler.nn.readout.sum_readout`) of every
    layer's output, concatenated: :math:`[\sum_v h_v^{(1)} \,\|\, \dots \,\|\,
    \sum_v h_v^{(L)}]`, of size :obj:`num_layers * hidden_channels` (96 by default).
    Linear layers start Xavier-uniform with zero bias, as GraphCL's ``init_emb`` does.

    BatchNorm uses the statistics of all nodes in the batch while training, so a
    graph's embedding depends on its batch-mates in training mode; call ``eval()`` for
    embeddings that depend on the graph alone.

    Args:
        in_channels (int): Number of node features :math:`F`.
        hidden_channels (int, optional): Width of every layer. (default: :obj:`32`)
        num_layers (int, optional): Number of GIN layers. (default: :obj:`3`)

    Example:
        >>> encoder = GINEncoder(in_channels=7)
        >>> x = torch.randn(5, 7)                     # graph 0: nodes 0-1, graph 1: 2-4
        >>> edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
        >>> batch = torch.tensor([0, 0, 1, 1, 1])
        >>> encoder(x, edge_index, batch, num_graphs=2).shape
        torch.Size([2, 96])

        With a PyG loader: ``encoder(b.x, b.edge_index, b.batch, b.num_graphs)``.
    """
    def __init__(self, in_channels: int, hidden_channels: int = 32,
                 num_layers: int = 3) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, hidden_channels=hidden_channels,
                            num_layers=num_layers)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.convs = ModuleList()
        self.norms = ModuleList()
        for layer in range(num_layers):
            width_in = in_channels if layer == 0 else hidden_channels
            mlp = Sequential(Linear(width_in, hidden_channels), ReLU(),
                             Linear(hidden_channels, hidden_channels))
            self.convs.append(GINLayer(mlp))
            self.norms.append(BatchNorm1d(hidden_channels))
        self.reset_parameters()

    @property
    def out_channels(self) -> int:
        r"""Size of the graph embedding, :obj:`num_layers * hidden_channels`."""
        return self.num_layers * self.hidden_channels

    def reset_parameters(self) -> None:
        r"""Resets all parameters: Xavier-uniform Linear weights, zero biases (as
        GraphCL's ``init_emb``), fresh BatchNorm affine parameters and statistics."""
        for module in self.modules():
            if isinstance(module, Linear):
                glorot(module.weight)
                zeros(module.bias)
            elif isinstance(module, BatchNorm1d):
                module.reset_parameters()

    def node_embeddings(self, x: Tensor, edge_index: Tensor) -> Tensor:
        r"""Every layer's node representations, concatenated.

        Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`, floating point with
                the dtype of the encoder's parameters.
            edge_index (torch.Tensor): Edges, shape :math:`[2, E]`, int64.

        Returns:
            torch.Tensor: Shape :math:`[N, \text{num\_layers} \cdot \text{hidden}]`.
        """
        self._check_nodes(x, edge_index)
        return self._embed(x, edge_index)

    def _embed(self, x: Tensor, edge_index: Tensor) -> Tensor:
        layers = []
        h = x
        adjacency = Adjacency(edge_index, x.size(0))
        for conv, norm in zip(self.convs, self.norms):
            h = norm(conv(h, adjacency).relu())
            layers.append(h)
        return torch.cat(layers, dim=1)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor,
                num_graphs: int | None = None) -> Tensor:
        r"""Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`, floating point with
                the dtype of the encoder's parameters.
            edge_index (torch.Tensor): Edges, shape :math:`[2, E]`, int64; may be
                empty.
            batch (torch.Tensor): Graph index of every node, shape :math:`[N]`, int64.
            num_graphs (int, optional): Number of graphs :math:`B` (pass
                ``batch.num_graphs``: it avoids a device sync and keeps trailing
                graphs that have no nodes). Must exceed ``batch.max()``. If not given,
                ``batch.max() + 1``.

        Returns:
            torch.Tensor: Graph embeddings, shape :math:`[B, \text{out\_channels}]`
            (summed in float32 under bfloat16 autocast: :mod:`graphsampler.precision`).
        """
        self._check_nodes(x, edge_index)
        check_batch_vector(batch, x.size(0), num_graphs)
        return sum_readout(self._embed(x, edge_index), batch, num_graphs)

    def _check_nodes(self, x: Tensor, edge_index: Tensor) -> None:
        dtype = self.convs[0].nn[0].weight.dtype
        if not x.is_floating_point():
            raise ValueError(f"x must be a floating-point tensor, got dtype {x.dtype}; "
                             f"convert node features with x.to({dtype})")
        check_dtype(x, dtype)
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must have shape [num_nodes, {self.in_channels}] "
                             f"(in_channels), got {tuple(x.shape)}")
        check_edge_index(edge_index)
        if self.training and x.size(0) < 2:
            raise ValueError(f"BatchNorm needs at least 2 nodes in training mode, got "
                             f"{x.size(0)}; batch more graphs or call encoder.eval()")


class GINLayer(torch.nn.Module):
    r"""One GIN layer with :math:`\epsilon = 0` (GraphCL's, not trained):
    :math:`\mathbf{h}_i' = \mathrm{MLP}(\mathbf{h}_i + \sum_{(j, i) \in E} \mathbf{h}_j)`.

    The same computation and parameter names as :class:`~torch_geometric.nn.conv.GINConv`
    with ``eps=0``, but it takes an :class:`~graphsampler.nn.adjacency.Adjacency` that
    the encoder builds once per batch for all its layers.

    Args:
        nn (torch.nn.Module): The MLP, mapping :math:`[N, F]` to :math:`[N, F']`.

    Example:
        >>> layer = GINLayer(torch.nn.Linear(3, 8))
        >>> edge_index = torch.tensor([[0, 1], [1, 0]])
        >>> layer(torch.randn(2, 3), Adjacency(edge_index, num_nodes=2)).shape
        torch.Size([2, 8])
    """
    def __init__(self, nn: torch.nn.Module) -> None:
        super().__init__()
        self.nn = nn

    def forward(self, x: Tensor, adjacency: Adjacency) -> Tensor:
        r"""Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`.
            adjacency (Adjacency): The batch's edges.

        Returns:
            torch.Tensor: Shape :math:`[N, F']`.
        """
        return self.nn(x + adjacency(x))
