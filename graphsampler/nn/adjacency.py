r"""Neighbour sums as a sparse matrix product, built once per batch, used by every layer."""
from __future__ import annotations

import warnings

import torch
from torch import Tensor

from graphsampler.nn._checks import check_edge_index
from graphsampler.precision import accumulation_dtype


class Adjacency:
    r"""The aggregation :math:`\mathbf{out}_i = \sum_{(j, i) \in E} w_{ji} \mathbf{x}_j`
    of a batch's edges, as a product with a sparse CSR matrix.

    Message passing by gather and scatter (:meth:`~torch.Tensor.index_select` then
    :meth:`~torch.Tensor.scatter_add_`) writes one message per edge, in the forward and
    again in the backward pass, and every layer repeats it. Here the edge list becomes a
    CSR matrix :math:`M` (rows: targets) once per batch; a layer is one sparse-dense
    product :math:`M \mathbf{x}`, and its gradient :math:`M^\top \mathbf{g}` uses a
    second CSR matrix (rows: sources), built at the first backward pass and then reused by
    the other layers. On COLLAB's dense graphs this is the difference between most of an
    epoch and a small part of it (``benchmarks/epoch_speed.py``).

    On the CPU, inputs of 64 columns or more go through ATen's CSR kernel
    (``torch.sparse.mm(..., reduce="sum")``, vectorised along the columns), narrower ones
    through MKL's, each where it is the faster.

    Edges need no order. PyG's collated edge lists are sorted by source, so :math:`M^\top`
    usually costs no sort. Edge weights are constants: no gradient flows to them.

    Args:
        edge_index (torch.Tensor): Edges :math:`j \to i` as columns ``(j, i)``, shape
            :math:`[2, E]`, int64, values in ``[0, num_nodes)``.
        num_nodes (int): Number of nodes :math:`N`.
        edge_weight (torch.Tensor, optional): Weight of each edge, shape :math:`[E]`,
            floating point, not requiring grad. (default: all ones)

    Example:
        >>> edge_index = torch.tensor([[0, 1, 1], [1, 0, 2]])    # 0->1, 1->0, 1->2
        >>> adj = Adjacency(edge_index, num_nodes=3)
        >>> adj(torch.tensor([[1.], [10.], [100.]]))
        tensor([[10.],
                [ 1.],
                [10.]])
    """

    def __init__(self, edge_index: Tensor, num_nodes: int,
                 edge_weight: Tensor | None = None) -> None:
        check_edge_index(edge_index)
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 0:
            raise ValueError(f"num_nodes must be a non-negative int, got {num_nodes!r}")
        if edge_index.numel():
            low, high = (int(v) for v in torch.aminmax(edge_index))
            if low < 0 or high >= num_nodes:
                raise ValueError(f"edge_index holds node ids in [{low}, {high}] but they "
                                 f"must lie in [0, num_nodes) = [0, {num_nodes})")
        if edge_weight is not None:
            if (edge_weight.dim() != 1 or edge_weight.size(0) != edge_index.size(1)
                    or not edge_weight.is_floating_point()):
                raise ValueError(f"edge_weight must be a floating-point tensor of shape "
                                 f"[{edge_index.size(1)}] (one weight per edge), got "
                                 f"{edge_weight.dtype} of shape {tuple(edge_weight.shape)}")
            if edge_weight.requires_grad:
                raise ValueError("edge_weight must not require grad: Adjacency treats edge "
                                 "weights as constants; pass edge_weight.detach()")
        self.edge_index = edge_index
        self.num_nodes = num_nodes
        self.edge_weight = edge_weight
        self._matrices: dict[tuple[bool, torch.dtype], Tensor] = {}

    def __call__(self, x: Tensor) -> Tensor:
        r"""Args:
            x (torch.Tensor): Node features, shape :math:`[N, F]`, floating point, on the
                edges' device.

        Returns:
            torch.Tensor: Neighbour sums, shape :math:`[N, F]`, in ``x``'s dtype, or
            float32 for bfloat16 and float16 ``x`` (summed in float32: see
            :mod:`graphsampler.precision`).
        """
        if x.dim() != 2 or x.size(0) != self.num_nodes:
            raise ValueError(f"x must have shape [{self.num_nodes}, F] (num_nodes rows), "
                             f"got {tuple(x.shape)}")
        return _SparseProduct.apply(x, self)

    def matrix(self, transpose: bool, dtype: torch.dtype) -> Tensor:
        r"""The CSR matrix :math:`M` (targets by sources) or :math:`M^\top`, cached."""
        key = (transpose, dtype)
        if key not in self._matrices:
            rows, cols = self.edge_index[int(not transpose)], self.edge_index[int(transpose)]
            weight = self.edge_weight
            if rows.numel() > 1 and not bool((rows[1:] >= rows[:-1]).all()):
                # int32 keys sort 1.7x faster than int64 on the CPU (COLLAB batch: 9 vs 15 ms)
                keys = rows.int() if self.num_nodes < 2**31 else rows
                order = torch.sort(keys, stable=True).indices
                cols = cols[order]  # the row pointers below need no sorted rows
                weight = None if weight is None else weight[order]
            if weight is None:
                weight = torch.ones(rows.numel(), dtype=dtype, device=rows.device)
            crow = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=rows.device)
            torch.cumsum(torch.bincount(rows, minlength=self.num_nodes), 0, out=crow[1:])
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore", UserWarning)
                self._matrices[key] = torch.sparse_csr_tensor(
                    crow, cols, weight.to(dtype), (self.num_nodes, self.num_nodes),
                    check_invariants=False)
        return self._matrices[key]


class _SparseProduct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, adj: Adjacency) -> Tensor:  # type: ignore[override]
        ctx.adj, ctx.input_dtype = adj, x.dtype
        return _product(adj.matrix(False, accumulation_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        matrix = ctx.adj.matrix(True, accumulation_dtype(grad.dtype))
        return _product(matrix, grad).to(ctx.input_dtype), None


#: From this many columns on, a CPU product runs ATen's own CSR kernel
#: (``reduce="sum"``, vectorised along the columns) instead of MKL's, which wins on
#: narrow inputs only.
_REDUCE_KERNEL_MIN_COLUMNS = 64


def _product(matrix: Tensor, x: Tensor) -> Tensor:
    r"""``matrix @ x`` for a CSR ``matrix`` :math:`[N, N]` and a dense ``x``
    :math:`[N, F]`, in ``matrix``'s dtype: :math:`[N, F]`."""
    x = x.to(matrix.dtype)
    # autocast would cast the product to bfloat16, which sparse CSR lacks on the CPU
    with torch.autocast(x.device.type, enabled=False):
        if x.device.type == "cpu" and x.size(1) >= _REDUCE_KERNEL_MIN_COLUMNS:
            return torch.sparse.mm(matrix, x, reduce="sum")
        return torch.sparse.mm(matrix, x)
