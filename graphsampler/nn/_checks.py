r"""Input checks shared by the encoders and heads: each raises a ValueError that says what
to change."""
from __future__ import annotations

import torch
from torch import Tensor


def check_positive_ints(**values: int) -> None:
    r"""Checks that every keyword value is an int >= 1."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_dtype(x: Tensor, dtype: torch.dtype) -> None:
    r"""Checks that node features ``x`` have the parameters' floating-point ``dtype``."""
    if x.dtype != dtype:
        raise ValueError(f"x has dtype {x.dtype} but the encoder's parameters are "
                         f"{dtype}; convert one of them (x.to({dtype}) or "
                         f"encoder.to({x.dtype}))")


def check_edge_index(edge_index: Tensor) -> None:
    r"""Checks ``edge_index`` is an int64 :obj:`[2, E]` tensor."""
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.long:
        raise ValueError(f"edge_index must be an int64 tensor of shape "
                         f"[2, num_edges], got shape {tuple(edge_index.shape)} and "
                         f"dtype {edge_index.dtype}")


def check_batch_vector(batch: Tensor, num_nodes: int, num_graphs: int | None) -> None:
    r"""Checks the graph-assignment vector :obj:`[N]` and ``num_graphs``."""
    if batch.dim() != 1 or batch.numel() != num_nodes or batch.dtype != torch.long:
        raise ValueError(f"batch must be a 1-D int64 tensor with one entry per node "
                         f"({num_nodes}), got shape {tuple(batch.shape)} and dtype "
                         f"{batch.dtype}")
    if num_graphs is None and batch.numel() == 0:
        raise ValueError("cannot infer the number of graphs of an empty batch; "
                         "pass num_graphs")
    if num_graphs is not None and num_graphs < 0:
        raise ValueError(f"num_graphs must be >= 0, got {num_graphs}")
