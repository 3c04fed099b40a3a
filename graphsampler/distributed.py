r"""Running under ``torchrun``: the process group's life cycle and rank-0-only work.

``torchrun --nproc_per_node W -m graphsampler train ...`` starts :math:`W` processes and
describes them in the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``). :func:`process_group` joins them (gloo on the CPU,
nccl with GPU ``LOCAL_RANK`` on CUDA); :func:`~graphsampler.train.train` then shards the
batches (:class:`~graphsampler.samplers.DistributedBatchSampler`) and averages the
gradients (DDP), and only rank 0 evaluates and writes results. Without ``torchrun``
:func:`process_group` does nothing and the one process is the main process.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    r"""Whether ``torchrun`` (or another launcher) set ``RANK`` and ``WORLD_SIZE``."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    r"""Joins the process group that ``torchrun`` describes, for the duration of the block.

    Args:
        device (torch.device): The run's device type: the CPU (gloo backend) or CUDA
            (nccl backend; each rank works on GPU ``LOCAL_RANK``, which plain ``"cuda"``
            then refers to).

    Example:
        .. code-block:: python

            with process_group(torch.device("cpu")):  # under torchrun: gloo
                record = run(config)                    # None on ranks other than 0
    """
    if not launched_by_torchrun():
        yield
        return
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        gpus = torch.cuda.device_count()
        if local_rank >= gpus:
            raise ValueError(
                f"LOCAL_RANK={local_rank} asks for GPU cuda:{local_rank}, but {gpus} GPU(s) "
                f"are visible; start at most {gpus} processes per node (torchrun "
                f"--nproc_per_node {gpus}) or use --device cpu")
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def is_main_process() -> bool:
    r"""Whether this process evaluates and writes: rank 0, or the only process."""
    return not dist.is_initialized() or dist.get_rank() == 0


@contextmanager
def main_process_first() -> Iterator[None]:
    r"""Runs the block on rank 0 first and on the other ranks after it, so that work
    with shared output (downloading and processing a dataset) is done once."""
    if not is_main_process():
        dist.barrier()
    yield
    if dist.is_initialized() and is_main_process():
        dist.barrier()
