r"""Mixed precision: matrix products in bfloat16, sums and losses in float32.

``train(..., precision="bf16")`` runs every training step under
:func:`torch.autocast` with bfloat16: linear layers (and PReLU) compute in bfloat16,
where CPUs with AVX-512 BF16 (AMD Zen 4, Intel Cooper Lake and later) multiply several
times faster than in float32 (``benchmarks/results/mvgrl_flops.md``) and GPUs use their
tensor cores; an MVGRL epoch on one CPU core takes 1.45-1.8x less time
(``benchmarks/results/mvgrl_speed.md``). The parameters, their gradients and the optimiser
stay float32. Three places keep float32 because bfloat16 (8 significant bits) would lose
what they add up:

* neighbour sums (:class:`~graphsampler.nn.adjacency.Adjacency`): a node of COLLAB
  has hundreds of neighbours, and CPUs have no bfloat16 sparse product;
* graph readouts (sums over a graph's nodes, up to 3,782 on REDDIT-BINARY):
  :func:`accumulation_dtype`;
* the losses (:func:`float32_loss`): a log-sum-exp over the batch, a mean over
  :math:`N \times B` node-graph scores.

Evaluation embeddings (:func:`~graphsampler.embed.embed_dataset`) are computed in
float32 whatever the training precision.

Memory: on the CPU, bfloat16 products run through oneDNN, which builds and caches a
kernel for every new problem shape, and nearly every batch of graphs has a new node
count. The process grows until oneDNN's primitive cache (1,024 entries,
``ONEDNN_PRIMITIVE_CACHE_CAPACITY``) is full, then stays flat: MVGRL on IMDB-BINARY,
+583 MiB over the first 24 epochs, then under 1 MiB per epoch; float32 is flat
from the first epoch (``benchmarks/results/bf16_memory.md``).

Example:
    .. code-block:: python

        with training_autocast(torch.device("cpu"), "bf16"):
            loss, z = method.training_step(batch)    # z: bfloat16 or float32
        loss.backward()                              # float32 gradients
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

#: The training precisions: ``fp32`` (everything float32) and ``bf16`` (autocast).
PRECISIONS = ("fp32", "bf16")

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def check_precision(precision: str) -> str:
    r"""Returns ``precision`` if it is one of :data:`PRECISIONS`, else raises a
    :class:`ValueError` that lists them."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    return precision


def cpu_has_bf16() -> bool:
    r"""Whether this CPU has bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` in
    Linux's ``/proc/cpuinfo``); :obj:`True` where that cannot be read (other systems,
    ARM), so that only a known slow CPU is warned about."""
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line for line in info if line.startswith("flags")), None)
    except OSError:
        return True
    if flags is None:
        return True
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def training_autocast(device: torch.device, precision: str) -> torch.autocast:
    r"""The autocast context of a training step: bfloat16 on ``device``'s type for
    ``"bf16"``, disabled for ``"fp32"``.

    Args:
        device (torch.device): Where the step runs (``cpu`` or ``cuda``).
        precision (str): ``"fp32"`` or ``"bf16"``.
    """
    check_precision(precision)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    r"""The dtype to sum values of ``dtype`` in: float32 for bfloat16 and float16,
    ``dtype`` itself for float32 and float64."""
    return torch.promote_types(dtype, torch.float32)


def float32_loss(loss: _Fn) -> _Fn:
    r"""Decorates a loss (a function, or a module's ``forward``) so that it computes in
    at least float32: bfloat16 and float16 tensor arguments are cast to float32, and
    autocast is off inside, so its matrix products stay float32 too. Gradients flow
    back to the inputs in their own dtype. Outside autocast, with float32 inputs, the
    loss runs unchanged.

    Example:
        >>> @float32_loss
        ... def mean_square(x: Tensor) -> Tensor:
        ...     return (x @ x.t()).mean()
        >>> mean_square(torch.randn(4, 3, dtype=torch.bfloat16)).dtype
        torch.float32
    """
    @functools.wraps(loss)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_upcast(a) for a in args)
        kwargs = {name: _upcast(value) for name, value in kwargs.items()}
        device_types = {a.device.type for a in (*args, *kwargs.values())
                        if isinstance(a, Tensor)}
        with contextlib.ExitStack() as stack:
            for device_type in device_types:
                stack.enter_context(torch.autocast(device_type, enabled=False))
            return loss(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def _upcast(value: Any) -> Any:
    if isinstance(value, Tensor) and value.dtype in (torch.bfloat16, torch.float16):
        return value.float()
    return value

