r"""MVGRL's graph-level model parts (Hassani & Khasahmadi, 2020): the GCN encoder of
each view (its MLP head is :class:`~graphsampler.nn.heads.MLPShortcutHead`)."""

import torch
from torch import Tensor
from torch.nn import Linear, ModuleList, Parameter, PReLU
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.inits import glorot, zeros

from graphsampler.nn._checks import (
    check_batch_vector,
    check_dtype,
    check_edge_index,
    check_positive_ints,
)
from graphsampler.nn.adjacency import Adjacency
from graphsampler.nn.readout import sum_readout
from graphsampler.precision import accumulation_dtype


class GCNEncoder(torch.nn.Module):
    r"""The GCN encoder of one MVGRL view (``GCN`` in MVGRL's ``graph/train.py``).

    Each of the :obj:`num_layers` layers computes
    :math:`H' = \operatorname{PReLU}(\tilde{A} H W + b)` (one PReLU parameter per
    layer; Xavier-uniform :math:`W`, zero :math:`b`, as the reference). The
    propagation matrix :math:`\tilde{A}` depends on the view, as in the reference:

    * adjacency view (``normalize=True``):
      :math:`\hat{D}^{-1/2} (A + I) \hat{D}^{-1/2}`, the reference's ``normalize_adj``
      (:func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm`, as
      :class:`~torch_geometric.nn.conv.GCNConv` normalises);
    * diffusion view (``normalize=False``): the PPR weights as they are,
      :math:`\tilde{A} = \mathbf{S}` given as ``edge_index``/``edge_weight`` from
      :func:`graphsampler.augment.diffusion.add_diffusion` (no self-loops added, no
      renormalisation; the reference multiplies by its dense :math:`\mathbf{S}`).

    Returns the node representations of the *last* layer (MVGRL's local view,
    :math:`[N, h]`) and the graph representation: every layer's sum over the graph's
    nodes, concatenated (:math:`[B, L h]`). The layers are registered submodules and
    train; the reference kept them in a plain Python list, so its optimiser never saw
    them.

    Args:
        in_channels (int): Node feature size :math:`F`.
        hidden_channels (int, optional): Width :math:`h` of every layer.
            (default: :obj:`512`, MVGRL's)
        num_layers (int, optional): Number of layers :math:`L`. (default: :obj:`4`,
            the reference's default; its grid searched 2, 8 and 12)
        normalize (bool, optional): ``True`` for the adjacency view, ``False`` for the
            diffusion view. (default: :obj:`True`)

    Example:
        .. code-block:: python

            adjacency = GCNEncoder(dataset.num_features)
            diffusion = GCNEncoder(dataset.num_features, normalize=False)
            local_1, global_1 = adjacency(batch.x, batch.edge_index, batch.batch,
                                          num_graphs=batch.num_graphs)
            local_2, global_2 = diffusion(batch.x, batch.diff_edge_index, batch.batch,
                                          batch.num_graphs,
                                          edge_weight=batch.diff_edge_weight)
            # local_*: [N, 512], global_*: [B, 2048]

        The arguments come in :class:`~graphsampler.nn.GINEncoder`'s order,
        ``(x, edge_index, batch, num_graphs)``; the diffusion view's weights are
        keyword-only.
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512,
                 num_layers: int = 4, normalize: bool = True) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, hidden_channels=hidden_channels,
                             num_layers=num_layers)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.normalize = normalize
        self.convs = ModuleList(
            GCNLayer(in_channels if layer == 0 else hidden_channels, hidden_channels)
            for layer in range(num_layers))
        self.acts = ModuleList(PReLU() for _ in range(num_layers))

    @property
    def out_channels(self) -> int:
        r"""Size of the graph representation, :obj:`num_layers * hidden_channels`."""
        return self.num_layers * self.hidden_channels

    def reset_parameters(self) -> None:
        r"""Xavier-uniform weights, zero biases, PReLU slopes back to 0.25."""
        for conv, act in zip(self.convs, self.acts):
            conv.reset_parameters()
            act.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor,
                num_graphs: int | None = None, *,
                edge_weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
        r"""Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`, floating point with
                the parameters' dtype.
            edge_index (torch.Tensor): Edges (``[source, target]``), shape
                :math:`[2, E]`, int64.
            batch (torch.Tensor): Graph of every node, shape :math:`[N]`, int64.
            num_graphs (int, optional): Number of graphs :math:`B` (pass
                ``batch.num_graphs``: no device sync, and trailing graphs without
                nodes are kept). (default: :obj:`None`, ``batch.max() + 1``)
            edge_weight (torch.Tensor, optional): Keyword-only. Weight of every edge,
                shape :math:`[E]` (the diffusion view's ``diff_edge_weight``).
                (default: :obj:`None`, all ones)

        Returns:
            (torch.Tensor, torch.Tensor): Node representations of the last layer,
            :math:`[N, h]`, and graph representations, :math:`[B, L h]` (summed in
            float32 under bfloat16 autocast: :mod:`graphsampler.precision`).
        """
        self._check_inputs(x, edge_index, batch, num_graphs, edge_weight)
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.size(0),
                                               add_self_loops=True, dtype=x.dtype)
        adjacency = Adjacency(edge_index, x.size(0), edge_weight)
        pooled = []
        h = x
        for conv, act in zip(self.convs, self.acts):
            h = act(conv(h, adjacency))
            pooled.append(sum_readout(h, batch, num_graphs))
        return h, torch.cat(pooled, dim=1)

    def _check_inputs(self, x: Tensor, edge_index: Tensor, batch: Tensor,
                      num_graphs: int | None, edge_weight: Tensor | None) -> None:
        _check_argument_types(x, edge_index, batch, num_graphs, edge_weight)
        dtype = self.convs[0].lin.weight.dtype
        if not x.is_floating_point() or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must be a floating-point tensor of shape "
                             f"[num_nodes, {self.in_channels}] (in_channels), got shape "
                             f"{tuple(x.shape)} and dtype {x.dtype}")
        check_dtype(x, dtype)
        check_edge_index(edge_index)
        if edge_weight is not None and (edge_weight.dim() != 1
                                        or edge_weight.numel() != edge_index.size(1)
                                        or edge_weight.dtype != x.dtype):
            raise ValueError(f"edge_weight must be a 1-D {x.dtype} tensor with one "
                             f"entry per edge ({edge_index.size(1)}), got shape "
                             f"{tuple(edge_weight.shape)} and dtype {edge_weight.dtype}")
        check_batch_vector(batch, x.size(0), num_graphs)


def _check_argument_types(x: object, edge_index: object, batch: object,
                          num_graphs: object, edge_weight: object) -> None:
    r"""One-line errors for arguments of the wrong type, before any shape check."""
    for name, value in (("x", x), ("edge_index", edge_index), ("batch", batch)):
        if not isinstance(value, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if num_graphs is not None and (isinstance(num_graphs, bool)
                                   or not isinstance(num_graphs, int)):
        hint = (" (edge weights are keyword-only: edge_weight=...)"
                if isinstance(num_graphs, Tensor) else "")
        raise ValueError(f"num_graphs must be an int or None, got "
                         f"{type(num_graphs).__name__}{hint}")
    if edge_weight is not None and not isinstance(edge_weight, Tensor):
        raise ValueError(f"edge_weight must be a torch.Tensor or None, got "
                         f"{type(edge_weight).__name__}")


class GCNLayer(torch.nn.Module):
    r"""One GCN layer without its activation: :math:`H' = \tilde{A} H W + b`.

    The propagation matrix :math:`\tilde{A}` comes as an
    :class:`~graphsampler.nn.adjacency.Adjacency` that the encoder builds once per batch
    for all its layers. The product is taken as :math:`(\tilde{A} H) W` when the layer
    widens (:math:`F < F'`: the sparse product runs on the narrower input) and as
    :math:`\tilde{A} (H W)` otherwise. Under bfloat16 autocast the matrix product runs
    in bfloat16 and the output (neighbour sums plus bias) is float32. Parameters as in
    :class:`~torch_geometric.nn.conv.GCNConv`: ``lin.weight`` (Xavier-uniform, no bias)
    and ``bias`` (zero).

    Args:
        in_channels (int): Input width :math:`F`.
        out_channels (int): Output width :math:`F'`.

    Example:
        >>> layer = GCNLayer(3, 8)
        >>> edge_index = torch.tensor([[0, 1], [1, 0]])
        >>> layer(torch.randn(2, 3), Adjacency(edge_index, num_nodes=2)).shape
        torch.Size([2, 8])
    """
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Xavier-uniform weight, zero bias."""
        glorot(self.lin.weight)
        zeros(self.bias)

    def forward(self, x: Tensor, adjacency: Adjacency) -> Tensor:
        r"""Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`.
            adjacency (Adjacency): The propagation matrix of the batch.

        Returns:
            torch.Tensor: Shape :math:`[N, F']`, float32 for a bfloat16 or float16
            matrix product (:func:`~graphsampler.precision.accumulation_dtype`).
        """
        # The bias goes in place into a fresh tensor of the accumulation dtype: on the
        # CPU, faster than an add that allocates, or one that promotes bfloat16.
        if self.lin.in_features < self.lin.out_features:
            h = self.lin(adjacency(x))
            return h.to(accumulation_dtype(h.dtype)).add_(self.bias)
        return adjacency(self.lin(x)).add_(self.bias)
