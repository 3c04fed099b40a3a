r"""One run: a :class:`~graphsampler.bench.RunConfig` trained and evaluated into the JSON
record that ``graphsampler train`` and ``graphsampler bench`` append to their results."""
from __future__ import annotations

import os
import time
from typing import Any, Sequence

from graphsampler.bench.config import RunConfig
from graphsampler.bench.provenance import device_name, git_commit, versions
from graphsampler.bench.registry import METHODS
from graphsampler.callbacks import BatchHardness, Callback, TrainingCounts
from graphsampler.data import IndexedDataset
from graphsampler.distributed import is_main_process, main_process_first
from graphsampler.eval.svm import svm_cv
from graphsampler.train import embed_dataset, resolve_device, seed_everything, train


def run(config: RunConfig, *, checkpoint: str | os.PathLike | None = None,
        progress: bool = True,
        callbacks: Sequence[Callback] | None = None,
        save_model: str | os.PathLike | None = None) -> dict[str, Any] | None:
    r"""Trains and evaluates one configuration; returns its JSON-serialisable record.

    The dataset is prepared as the method's registry entry says
    (:data:`~graphsampler.bench.registry.METHODS`), the model and sampler are built
    from ``config``, :func:`~graphsampler.train.train` trains them, and the frozen
    embeddings (:func:`~graphsampler.train.embed_dataset`) go through the SVM protocol
    (:func:`~graphsampler.eval.svm_cv`) with the method's kernel. Under
    :mod:`torch.distributed` (``torchrun``) every rank trains its share of the batches
    and only rank 0 evaluates: the other ranks return ``None``.

    Args:
        config (RunConfig): The run.
        checkpoint (str or os.PathLike, optional): Checkpoint file: an interrupted run
            resumes from its last finished epoch.
        progress (bool): Show progress bars. (default: :obj:`True`)
        callbacks (Sequence[Callback], optional): The training loop's diagnostics
            (default: :class:`~graphsampler.callbacks.BatchHardness` and
            :class:`~graphsampler.callbacks.TrainingCounts`).
        save_model (str or os.PathLike, optional): Write the evaluated model there
            (:func:`~graphsampler.bench.saved.save_model`; read it back with
            :func:`graphsampler.load_model`).

    Returns:
        dict: ``method, loss, dataset, sampler, seed, epochs, num_graphs, accuracy_mean,
        accuracy_std`` (over the 10 folds, in %), ``fold_accuracies, best_c,
        train_seconds, eval_seconds, device, commit, versions, config`` (the settings
        that apply, :meth:`RunConfig.settings`) and ``history`` (per epoch: loss,
        sampler statistics and the callbacks' keys).

    Example:
        >>> record = run(RunConfig(dataset="MUTAG", sampler="proximity", epochs=2))
        >>> record["accuracy_mean"]
        86.2
    """
    device = resolve_device(config.device)
    git_commit()  # the code this process imported, before the checkout can change
    seed_everything(config.seed)
    spec = METHODS[config.method]
    with main_process_first():  # one rank extracts and processes the dataset files
        options = {"node_attributes": True} if config.node_attributes else {}
        dataset = IndexedDataset(spec.prepare(config.dataset, config.data_root, **options))
    config.check_size(len(dataset))  # the real N, before any training
    method = config.build_method(dataset.num_features)
    sampler = config.build_sampler(len(dataset))
    result = train(method, dataset, sampler, epochs=config.epochs, lr=config.lr,
                   device=device, seed=config.seed, checkpoint=checkpoint, progress=progress,
                   precision=config.precision,
                   callbacks=[BatchHardness(), TrainingCounts(len(dataset))]
                   if callbacks is None else callbacks)
    if not is_main_process():
        return None
    tic = time.perf_counter()
    x, y = embed_dataset(method, dataset, device=device,
                         recalibration_batch_size=config.batch_size, seed=config.seed)
    if save_model is not None:  # the model as evaluated (BatchNorm statistics included)
        from graphsampler.bench.saved import save_model as write_model
        write_model(method, config, dataset.num_features, save_model)
    scores = svm_cv(x, y, kernel=spec.eval_kernel, seed=config.seed, progress=progress)
    return {
        "method": config.method, "loss": config.loss, "dataset": config.dataset,
        "sampler": config.sampler, "seed": config.seed, "epochs": config.epochs,
        "num_graphs": len(dataset),
        "accuracy_mean": float(scores.mean), "accuracy_std": float(scores.std),
        "fold_accuracies": [float(a) for a in scores.fold_accuracies],
        "best_c": [float(c) for c in scores.best_c],
        "train_seconds": result.seconds, "eval_seconds": time.perf_counter() - tic,
        "device": device_name(device), "commit": git_commit(), "versions": versions(),
        "config": config.settings(), "history": result.history,
    }


__all__ = ["run"]
