r"""One run: a :class:`~graphsampler.bench.RunConfig` trained and evaluated into the JSON
record that ``graphsampler train`` and ``graphsampler bench`` append to their results."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric import seed_everything

from graphsampler.bench.config import RunConfig
from graphsampler.bench.provenance import device_name, git_commit, versions
from graphsampler.bench.record import Record
from graphsampler.bench.registry import METHODS
from graphsampler.callback import Callback
from graphsampler.data import IndexedDataset
from graphsampler.data.copies import attach_copy_ids
from graphsampler.distributed import is_main_process, main_process_first
from graphsampler.embed import embed_normalisations
from graphsampler.eval.diagnostics import BatchHardness, TrainingCounts
from graphsampler.eval.svm import svm_cv
from graphsampler.train import resolve_device, train


def run(config: RunConfig, *, checkpoint: str | os.PathLike | None = None,
        progress: bool = True, callbacks: Sequence[Callback] | None = None,
        device: torch.device | None = None,
        save_model: str | os.PathLike | None = None) -> dict[str, Any] | None:
    r"""Trains and evaluates one configuration; returns its JSON-serialisable record.

    The dataset is prepared as the method's registry entry says
    (:data:`~graphsampler.bench.registry.METHODS`), the model and sampler are built
    from ``config``, :func:`~graphsampler.train.train` trains them, and the frozen
    embeddings under each BatchNorm normalisation
    (:func:`~graphsampler.embed.embed_normalisations`) go through the SVM protocol
    (:func:`~graphsampler.eval.svm_cv`) with the method's kernel. Under
    :mod:`torch.distributed` (``torchrun``) every rank trains its share of the batches
    and only rank 0 evaluates: the other ranks return ``None``.

    Args:
        config (RunConfig): The run.
        checkpoint (str or os.PathLike, optional): Checkpoint file: an interrupted run
            resumes from its last finished epoch.
        progress (bool): Show progress bars. (default: :obj:`True`)
        callbacks (Sequence[Callback], optional): The training loop's diagnostics
            (default: :class:`~graphsampler.eval.diagnostics.BatchHardness` and
            :class:`~graphsampler.eval.diagnostics.TrainingCounts`).
        device (torch.device, optional): The device, when the caller has resolved
            ``config.device`` already (the CLI does, for the process group); it is
            resolved here otherwise, once, and passed down to training and embedding.
        save_model (str or os.PathLike, optional): Write the evaluated model there
            (:func:`~graphsampler.bench.saved.save_model`; read it back with
            :func:`graphsampler.load_model`).

    Returns:
        dict: :meth:`Record.to_dict <graphsampler.bench.record.Record.to_dict>`:
        ``method, loss, dataset, sampler, seed, epochs, num_graphs, accuracy_mean,
        accuracy_std`` (over the 10 folds, in %), ``fold_accuracies, best_c`` (those of
        the protocol's normalisation, ``norm_default``), ``accuracy_by_norm`` (the same
        per normalisation), ``bn_collapse, bn_variance_ratio`` (the collapse test), the
        proximity graph's resolved ``num_candidates_resolved, num_neighbors_resolved``,
        train_seconds, eval_seconds, device, commit, versions, config`` (the settings
        that apply, :meth:`RunConfig.settings`) and ``history`` (per epoch: loss,
        sampler statistics and the callbacks' keys); the keys are documented in
        :mod:`graphsampler.bench.record`.

    Example:
        .. code-block:: python

            record = run(RunConfig(dataset="MUTAG", sampler="proximity", epochs=2))
            record["accuracy_mean"]  # 86.2
    """
    device = resolve_device(config.device) if device is None else device
    git_commit()  # the code this process imported, before the checkout can change
    seed_everything(config.seed)  # the model's initialisation; train() seeds its loop again
    spec = METHODS[config.method]
    copies = any(config.settings().get(k) for k in ("exclude_copies", "dedupe_copies"))
    with main_process_first():  # one rank extracts and processes the dataset files
        options = {"node_attributes": True} if config.node_attributes else {}
        graphs = spec.prepare(config.dataset, config.data_root, **options)
        if copies:  # isomorphism classes (batch.copy_id), cached beside the dataset
            graphs = attach_copy_ids(graphs)
        dataset = IndexedDataset(graphs)
    config.check_size(len(dataset))  # the real N, before any training
    method = config.build_method(dataset.num_features)
    sampler = config.build_sampler(len(dataset))
    if getattr(sampler, "dedupe_copies", False):
        sampler.set_copy_ids(graphs.copy_id)
    result = train(method, dataset, sampler, epochs=config.epochs, lr=config.lr,
                   device=device, seed=config.seed, checkpoint=checkpoint, progress=progress,
                   precision=config.precision,
                   callbacks=[BatchHardness(), TrainingCounts(len(dataset))]
                   if callbacks is None else callbacks)
    if not is_main_process():
        return None
    tic = time.perf_counter()
    emb = embed_normalisations(method, dataset, device=device,
                               recalibration_batch_size=config.batch_size, seed=config.seed)
    if save_model is not None:  # the model as evaluated (BatchNorm statistics included)
        from graphsampler.bench.saved import save_model as write_model
        write_model(method, config, dataset.num_features, save_model)
    by_norm = {}
    for norm, x in emb.by_norm.items():
        if not np.isfinite(x).all():
            continue  # collapsed statistics: no classifier takes these
        scores = svm_cv(x, emb.y, kernel=spec.eval_kernel, seed=config.seed,
                        progress=progress)
        by_norm[norm] = {"mean": float(scores.mean), "std": float(scores.std),
                         "fold_accuracies": [float(a) for a in scores.fold_accuracies],
                         "best_c": [float(c) for c in scores.best_c]}
    chosen = by_norm[emb.default]
    return Record(  # the schema: graphsampler/bench/record.py
        method=config.method, loss=config.loss, dataset=config.dataset,
        sampler=config.sampler, seed=config.seed, epochs=config.epochs,
        num_graphs=len(dataset), accuracy_mean=chosen["mean"],
        accuracy_std=chosen["std"], fold_accuracies=chosen["fold_accuracies"],
        best_c=chosen["best_c"], accuracy_by_norm=by_norm, norm_default=emb.default,
        bn_collapse=emb.collapsed,
        bn_variance_ratio=(emb.variance_ratio if np.isfinite(emb.variance_ratio) else None),
        **_resolved_sizes(sampler),
        train_seconds=result.seconds, eval_seconds=time.perf_counter() - tic,
        device=device_name(device), commit=git_commit(), versions=versions(),
        config=config.settings(), history=result.history,
    ).to_dict()


def _resolved_sizes(sampler: Any) -> dict[str, int]:
    r"""The proximity graph's resolved ``M`` and ``k`` where the sampler has them."""
    return {f"{name}_resolved": int(getattr(sampler, name))
            for name in ("num_candidates", "num_neighbors") if hasattr(sampler, name)}


__all__ = ["run"]
