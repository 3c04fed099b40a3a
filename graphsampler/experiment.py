r"""One experiment run: a method, a sampler, a dataset and a seed, trained and evaluated.

This is what ``graphsampler train`` runs once per seed and ``graphsampler bench`` once
per cell; it returns the JSON record that both append to their results file.
"""
from __future__ import annotations

import dataclasses
import functools
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch_geometric

from graphsampler.data import IndexedDataset, load_tu
from graphsampler.distributed import is_main_process, main_process_first
from graphsampler.eval.svm import svm_cv
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.methods.graphcl import GraphCL
from graphsampler.methods.mvgrl import MVGRL, load_mvgrl_dataset
from graphsampler.precision import check_precision
from graphsampler.samplers.batch import (
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
)
from graphsampler.train import embed_dataset, resolve_device, seed_everything, train

#: Methods and the losses each accepts, by CLI name (the first is the default).
METHOD_LOSSES = {"graphcl": ("infonce", "dcl", "hcl"), "mvgrl": ("jsd",)}
#: Adam learning rates of the methods' reference code, used when a run gives none.
METHOD_LR = {"graphcl": 0.01, "mvgrl": 0.001}
SAMPLERS = ("uniform", "knn", "proximity")


@dataclass(frozen=True)
class RunConfig:
    r"""Everything that defines one run; the defaults are the paper's settings.

    Args:
        method: ``graphcl`` or ``mvgrl``.
        loss: ``infonce``, ``dcl`` or ``hcl`` (GraphCL); ``jsd`` (MVGRL).
        dataset: A TU dataset name (``graphsampler datasets`` lists them).
        sampler: ``uniform``, ``knn`` or ``proximity``.
        seed: Seed of everything random in the run, the SVM folds included.
        epochs, batch_size, lr: Training schedule (``lr=None``: the method's own,
            :data:`METHOD_LR`).
        num_candidates, num_neighbors, restart_prob: Proximity sampler settings
            (:math:`M`, :math:`k`, :math:`\alpha`).
        augmentation: GraphCL's augmentation of the second view (``random2``: node
            dropping or subgraph per graph; see :func:`graphsampler.augment.graphcl_augmentation`).
        precision: ``fp32``, or ``bf16`` to train under bfloat16 autocast
            (:mod:`graphsampler.precision`; evaluation stays float32).
        device: ``auto``, ``cpu``, ``cuda``...
        data_root: Where datasets live (default: ``GRAPHSAMPLER_DATA`` or ``./datasets``).
    """
    method: str = "graphcl"
    loss: str = "infonce"
    dataset: str = "MUTAG"
    sampler: str = "uniform"
    seed: int = 0
    epochs: int = 20
    batch_size: int = 128
    lr: float | None = None
    num_candidates: int = 1000
    num_neighbors: int = 100
    restart_prob: float = 0.2
    augmentation: str = "random2"
    precision: str = "fp32"
    device: str = "auto"
    data_root: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHOD_LOSSES:
            raise ValueError(f"unknown method {self.method!r}; choose one of {list(METHOD_LOSSES)}")
        if self.loss not in METHOD_LOSSES[self.method]:
            raise ValueError(f"{self.method} takes the loss {' or '.join(METHOD_LOSSES[self.method])},"
                             f" got {self.loss!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {list(SAMPLERS)}")
        check_precision(self.precision)

    def key(self) -> tuple:
        r"""What identifies the run in a results file (device and paths excluded)."""
        skip = {"device", "data_root"}
        return tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                     if f.name not in skip)


@functools.cache
def git_commit() -> str:
    r"""The checkout's commit (with ``-dirty`` for uncommitted changes), or ``unknown``.

    Read once per process (first call; :func:`run` calls it before training), so that a
    long suite keeps recording the code it imported even if the checkout moves on."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, check=True).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_name(device: torch.device | str = "cpu") -> str:
    r"""A human-readable name of a device: the GPU's name, or the CPU model and threads."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu ({model}, {torch.get_num_threads()} threads)"


def make_sampler(config: RunConfig, num_items: int) -> UniformBatchSampler:
    r"""The batch sampler ``config.sampler`` for a dataset of ``num_items`` graphs."""
    common = {"seed": config.seed}
    if config.sampler == "uniform":
        return UniformBatchSampler(num_items, config.batch_size, **common)
    if config.sampler == "knn":
        return KNNBatchSampler(num_items, config.batch_size, **common)
    return ProximityBatchSampler(
        num_items, config.batch_size, num_candidates=config.num_candidates,
        num_neighbors=config.num_neighbors,
        restart_prob=config.restart_prob, **common)


def make_method(config: RunConfig, num_features: int) -> ContrastiveMethod:
    r"""The model of ``config.method``."""
    if config.method == "graphcl":
        return GraphCL(num_features, config.loss, augmentation=config.augmentation)
    return MVGRL(num_features)


def load_dataset(config: RunConfig):
    r"""The run's dataset, with the node features its method's reference code used."""
    if config.method == "graphcl":
        return load_tu(config.dataset, config.data_root, node_features="constant")
    return load_mvgrl_dataset(config.dataset, config.data_root)


def run(config: RunConfig, *, checkpoint: str | Path | None = None,
        progress: bool = True) -> dict[str, Any] | None:
    r"""Trains and evaluates one configuration; returns its JSON-serialisable record.

    Under :mod:`torch.distributed` (``torchrun``) every rank trains its share of the
    batches (see :func:`~graphsampler.train.train`) and only rank 0 evaluates: the
    other ranks return ``None``.

    Args:
        config (RunConfig): The run.
        checkpoint (str or Path, optional): Checkpoint file: an interrupted run resumes
            from its last finished epoch.
        progress (bool): Show progress bars.

    Returns:
        dict: ``method, loss, dataset, sampler, seed, epochs, accuracy_mean,
        accuracy_std`` (over the 10 folds, in %), ``fold_accuracies, train_seconds,
        eval_seconds, device, commit, versions, config, history`` (per-epoch loss and
        batch hardness).
    """
    device = resolve_device(config.device)
    git_commit()  # the code this process imported, before the checkout can change
    seed_everything(config.seed)
    with main_process_first():  # one rank extracts and processes the dataset files
        dataset = IndexedDataset(load_dataset(config))
    method = make_method(config, dataset.num_features)
    sampler = make_sampler(config, len(dataset))
    lr = METHOD_LR[config.method] if config.lr is None else config.lr
    result = train(method, dataset, sampler, epochs=config.epochs, lr=lr,
                   device=device, seed=config.seed, checkpoint=checkpoint, progress=progress,
                   precision=config.precision)
    if not is_main_process():
        return None
    tic = time.perf_counter()
    x, y = embed_dataset(method, dataset, device=device)
    scores = svm_cv(x, y, kernel=method.eval_kernel, seed=config.seed)
    eval_seconds = time.perf_counter() - tic
    return {
        "method": config.method, "loss": config.loss, "dataset": config.dataset,
        "sampler": config.sampler, "seed": config.seed, "epochs": config.epochs,
        "accuracy_mean": float(scores.mean), "accuracy_std": float(scores.std),
        "fold_accuracies": [float(a) for a in scores.fold_accuracies],
        "best_c": [float(c) for c in scores.best_c],
        "train_seconds": result.seconds, "eval_seconds": eval_seconds,
        "device": device_name(device), "commit": git_commit(),
        "versions": {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
                     "python": platform.python_version()},
        "config": dataclasses.asdict(config),
        "history": result.history,
    }
