r"""The one training loop shared by every method and sampler."""
from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch_geometric
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset
from torch_geometric import seed_everything
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from graphsampler.callback import Callback
from graphsampler.distributed import is_main_process
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.precision import accumulation_dtype, check_precision, training_autocast
from graphsampler.samplers import BaseBatchSampler
from graphsampler.samplers.distributed import DistributedBatchSampler


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    r"""``"auto"`` is CUDA when a GPU is visible, else the CPU; other names are checked
    and parsed by :func:`torch_geometric.device`; a :class:`torch.device` passes through.

    PyG's own ``"auto"`` would also pick Apple's MPS or Intel's XPU, where the float64
    evaluation and the CUDA-only paths here do not run, so ``"auto"`` stays CUDA or CPU.
    A run resolves its device once (the runner, or :func:`train` called alone) and
    passes the :class:`torch.device` down.
    """
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch_geometric.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from err
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not supported: graphsampler runs on cpu and "
                         f"cuda; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA GPU is visible; use cpu or auto")
    return device


@dataclass
class TrainResult:
    r"""What :func:`train` returns.

    Attributes:
        history: One record per epoch: ``epoch``, ``loss`` (mean over batches),
            ``seconds``, the sampler's ``sampler_stats`` and the keys the callbacks add
            (e.g. :class:`~graphsampler.eval.diagnostics.BatchHardness`'s ``neg_cos_mean``).
        seconds: Training wall time, summed over the epochs run (a resumed run counts
            the epochs before its interruption too).

    Under :mod:`torch.distributed` the loss and callbacks see this rank's batches.
    """
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


class _TrainingStep(torch.nn.Module):
    r"""``forward`` is the method's training step, so that DDP, which hooks ``forward``,
    averages the gradients of that step across ranks."""

    def __init__(self, method: ContrastiveMethod) -> None:
        super().__init__()
        self.method = method

    def forward(self, batch: Any, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return self.method.training_step(batch, generator)


def _save_atomic(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    method: ContrastiveMethod,
    dataset: Dataset,
    sampler: BaseBatchSampler,
    *,
    epochs: int = 20,
    lr: float = 0.01,
    device: str | torch.device = "auto",
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    num_workers: int = 0,
    precision: str = "fp32",
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    r"""Trains ``method`` on ``dataset`` with mini-batches from ``sampler``.

    Every batch: the method's forward pass, one Adam step, and the batch's embeddings
    (keyed by ``batch.sample_idx``) into the sampler's bank, which the sampler reads to
    plan the following batches. After every epoch a checkpoint (model, optimiser,
    sampler, random states, history) is written atomically to ``checkpoint``; a call
    with an existing checkpoint resumes after its last finished epoch and continues the
    same stream of batches.

    Under an initialised :mod:`torch.distributed` process group (``torchrun``) every
    rank calls :func:`train` with the same arguments: rank :math:`r` of :math:`W` takes
    batches :math:`r, r + W, \ldots` of each epoch (:class:`DistributedBatchSampler`,
    which also shares the bank across ranks), DDP averages the gradients, and only
    rank 0 writes the checkpoint.

    Args:
        method (ContrastiveMethod): The model and its training step.
        dataset (Dataset): An :class:`~graphsampler.data.IndexedDataset` (graphs that
            carry ``sample_idx``) of ``sampler.num_items`` graphs.
        sampler (BaseBatchSampler): Any batch sampler of :mod:`graphsampler.samplers`
            (not wrapped: under :mod:`torch.distributed` :func:`train` wraps it).
        epochs (int): Epochs to train. (default: :obj:`20`)
        lr (float): Adam learning rate. (default: :obj:`0.01`)
        device (str or torch.device): ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"``...
        seed (int): Seed of torch, NumPy, Python and the augmentations.
        checkpoint (str or os.PathLike, optional): File to save to and resume from.
        progress (bool): Show a progress bar. (default: :obj:`True`)
        num_workers (int): DataLoader worker processes. (default: :obj:`0`)
        precision (str): ``"fp32"``, or ``"bf16"`` to run each training step under
            bfloat16 autocast (float32 parameters, optimiser, sums and losses; see
            :mod:`graphsampler.precision`). (default: :obj:`"fp32"`)
        callbacks (Sequence[Callback]): Diagnostics run at each epoch's start and end
            and after each step (:mod:`graphsampler.callback`; the diagnostics are in
            :mod:`graphsampler.eval.diagnostics`); none by default, so
            that training computes nothing it does not need. (default: :obj:`()`)

    Returns:
        TrainResult: per-epoch history and training time.

    Example:
        .. code-block:: python

            ds = IndexedDataset(load_tu("MUTAG"))
            method = GraphCL(ds.num_features)
            sampler = ProximityBatchSampler(len(ds), 128, num_candidates=1000,
                                            num_neighbors=100, seed=0)
            result = train(method, ds, sampler, epochs=20, seed=0)
    """
    if len(dataset) != sampler.num_items:
        raise ValueError(f"the sampler is for {sampler.num_items} instances but the dataset "
                         f"has {len(dataset)}; build the sampler with len(dataset)")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    check_precision(precision)
    device = resolve_device(device)
    seed_everything(seed)
    method.to(device)
    distributed = dist.is_initialized()
    step = DistributedDataParallel(_TrainingStep(method)) if distributed else method.training_step
    batches = DistributedBatchSampler(sampler) if distributed else sampler
    optimizer = torch.optim.Adam(method.parameters(), lr=lr)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    result = TrainResult()
    start_epoch = 0

    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        try:
            state = torch.load(path, map_location=device, weights_only=False)
            method.load_state_dict(state["method"])
            optimizer.load_state_dict(state["optimizer"])
            sampler.load_state_dict(state["sampler"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
            np.random.set_state(state["numpy_rng"])
            random.setstate(state["python_rng"])
            result = TrainResult(state["history"], state["seconds"])
            start_epoch = state["epoch"] + 1
        except Exception as exc:  # truncated, foreign or of another model
            reason = " ".join(str(exc).split())[:120]
            raise ValueError(f"cannot resume from the checkpoint {path} "
                             f"({type(exc).__name__}: {reason}); delete it to restart "
                             f"that run from its first epoch") from exc

    loader = DataLoader(dataset, batch_sampler=batches, num_workers=num_workers)
    bar = tqdm(range(start_epoch, epochs), desc=f"train {type(method).__name__}",
               unit="epoch", disable=not progress, initial=start_epoch, total=epochs)
    for epoch in bar:
        method.train()
        batches.set_epoch(epoch)
        tic = time.perf_counter()
        losses: list[Tensor] = []
        for callback in callbacks:
            callback.on_epoch_start(epoch, batches)
        for batch in loader:
            batch = batch.to(device)
            with training_autocast(device, precision):
                loss, z = step(batch, generator)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss.item()} at epoch {epoch}; lower the learning "
                    f"rate (lr={lr}) or raise the temperature")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            z = z.detach()
            z = z.to(accumulation_dtype(z.dtype))  # the bank and callbacks: float32 under bf16
            batches.update(batch.sample_idx, z)
            losses.append(loss.detach())
            for callback in callbacks:
                callback.on_step(batch, losses[-1], z, batches)
        seconds = time.perf_counter() - tic
        record: dict[str, Any] = {
            "epoch": epoch,
            "loss": torch.stack(losses).mean().item() if losses else float("nan"),
            "seconds": seconds,
            "sampler_stats": {k: v for k, v in sampler.stats.items() if k != "epoch"},
        }
        for callback in callbacks:
            callback.on_epoch_end(epoch, record)
        result.history.append(record)
        result.seconds += seconds
        bar.set_postfix(loss=f"{record['loss']:.4f}")
        if path is not None and is_main_process():
            path.parent.mkdir(parents=True, exist_ok=True)
            _save_atomic({
                "epoch": epoch, "method": method.state_dict(),
                "optimizer": optimizer.state_dict(), "sampler": sampler.state_dict(),
                "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                "numpy_rng": np.random.get_state(), "python_rng": random.getstate(),
                "history": result.history, "seconds": result.seconds,
            }, path)
    return result
