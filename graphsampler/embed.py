r"""Frozen embeddings for evaluation, under each BatchNorm normalisation.

One trained model is embedded with the running statistics training left and with
statistics re-estimated over the dataset; the protocol reports one of them
(:class:`Embeddings`), and :func:`embed_dataset` is the one-call form.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset
from torch_geometric.loader import DataLoader

from graphsampler.methods.base import ContrastiveMethod
from graphsampler.nn.norm import (
    COLLAPSE_RATIO,
    batchnorm_layers,
    batchnorm_statistics,
    load_batchnorm_statistics,
    recalibrate_batchnorm,
    variance_ratio,
)
from graphsampler.train import resolve_device

#: How BatchNorm is normalised at evaluation: ``"train"``, with the running statistics
#: training left; ``"clean"``, with statistics re-estimated over one uniformly shuffled
#: pass of the (unaugmented) dataset (:func:`~graphsampler.nn.norm.recalibrate_batchnorm`).
NORMALISATIONS = ("train", "clean")
#: The protocol's normalisation, chosen by the rule in ``docs/sampler-study.md`` (the
#: uniform runs' accuracy, which cannot favour a sampler); collapsed statistics are
#: re-estimated whatever it is (:class:`Embeddings`).
DEFAULT_NORM = "train"


@dataclass
class Embeddings:
    r"""Frozen embeddings of one trained model under each BatchNorm normalisation.

    Attributes:
        by_norm: :obj:`[N, d]` float64 embeddings per name of :data:`NORMALISATIONS`
            (``{"train": ...}`` alone for a model without BatchNorm).
        y: :obj:`[N]` labels, in dataset order.
        variance_ratio: The smallest ratio of a training running variance to the
            re-estimated one (:func:`~graphsampler.nn.norm.variance_ratio`; ``inf``
            without BatchNorm).
        collapsed: Training's statistics have collapsed (a ratio below
            :data:`~graphsampler.nn.norm.COLLAPSE_RATIO`, or non-finite embeddings).
        default: The normalisation the protocol reports: :data:`DEFAULT_NORM`, or
            ``"clean"`` where training's statistics collapsed.
    """
    by_norm: dict[str, np.ndarray]
    y: np.ndarray
    variance_ratio: float = float("inf")
    collapsed: bool = False
    default: str = DEFAULT_NORM


def _embed(method: ContrastiveMethod, dataset: Dataset, device: torch.device,
           batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    method.eval()
    xs, ys = [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        batch = batch.to(device)
        xs.append(method.embed(batch).double().cpu())
        ys.append(batch.y.view(-1).cpu())
    return torch.cat(xs).numpy(), torch.cat(ys).numpy()


@torch.no_grad()
def embed_normalisations(method: ContrastiveMethod, dataset: Dataset, *,
                         device: str | torch.device = "auto", batch_size: int = 512,
                         recalibration_batch_size: int = 128, seed: int = 0) -> Embeddings:
    r"""Frozen embeddings of every graph under each BatchNorm normalisation of
    :data:`NORMALISATIONS`, from the same weights: one training, several evaluations.

    First with the running statistics training left (``"train"``), then with statistics
    re-estimated over one uniformly shuffled pass of the dataset (``"clean"``,
    :func:`~graphsampler.nn.norm.recalibrate_batchnorm`). Comparing the two sets of
    statistics detects a collapse: after the homogeneous last batches of a hard sampler
    a running variance can fall orders of magnitude below the data's, and the frozen
    embeddings explode. The model is left with the statistics of
    :attr:`Embeddings.default`; no parameter changes.

    Args:
        method (ContrastiveMethod): The trained model.
        dataset (Dataset): The graphs, with labels ``y``.
        device (str or torch.device): Where to embed. (default: :obj:`"auto"`)
        batch_size (int): Graphs per embedding batch. (default: :obj:`512`)
        recalibration_batch_size (int): Graphs per re-estimation batch (the training
            batch size is the natural choice). (default: :obj:`128`)
        seed (int): Seed of the re-estimation's shuffle. (default: :obj:`0`)

    Returns:
        Embeddings: :obj:`[N, d]` embeddings per normalisation, labels, the collapse test.

    Example:
        .. code-block:: python

            emb = embed_normalisations(method, dataset, device="cpu")
            scores = svm_cv(emb.by_norm[emb.default], emb.y, "rbf")
    """
    device = resolve_device(device)
    method.to(device)
    x_train, y = _embed(method, dataset, device, batch_size)
    if not batchnorm_layers(method):
        return Embeddings({"train": x_train}, y)
    trained = batchnorm_statistics(method)
    order = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=recalibration_batch_size, shuffle=True,
                        generator=order)
    recalibrate_batchnorm(method, (batch.to(device) for batch in loader), method.embed)
    x_clean, _ = _embed(method, dataset, device, batch_size)
    ratio = variance_ratio(trained, batchnorm_statistics(method))
    collapsed = ratio < COLLAPSE_RATIO or not np.isfinite(x_train).all()
    default = "clean" if collapsed else DEFAULT_NORM
    if default == "train":
        load_batchnorm_statistics(method, trained)
    return Embeddings({"train": x_train, "clean": x_clean}, y, ratio, collapsed, default)


def embed_dataset(method: ContrastiveMethod, dataset: Dataset, *,
                  device: str | torch.device = "auto", batch_size: int = 512,
                  norm: str = "default", recalibration_batch_size: int = 128,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Frozen embeddings and labels of every graph, in dataset order.

    Args:
        method (ContrastiveMethod): The trained model.
        dataset (Dataset): The graphs, with labels ``y``.
        device (str or torch.device): Where to embed. (default: :obj:`"auto"`)
        batch_size (int): Graphs per embedding batch. (default: :obj:`512`)
        norm (str): BatchNorm at evaluation: ``"train"`` (training's running
            statistics), ``"clean"`` (re-estimated over the dataset), or ``"default"``,
            the protocol's (:data:`DEFAULT_NORM`, re-estimated where training's
            statistics collapsed; :func:`embed_normalisations`). (default: :obj:`"default"`)
        recalibration_batch_size (int): Graphs per re-estimation batch.
            (default: :obj:`128`)
        seed (int): Seed of the re-estimation's shuffle. (default: :obj:`0`)

    Returns:
        (numpy.ndarray, numpy.ndarray): embeddings :obj:`[N, d]` (float64) and labels
        :obj:`[N]`.

    Example:
        .. code-block:: python

            x, y = embed_dataset(method, dataset, device="cpu")
            scores = svm_cv(x, y, "rbf")
    """
    if norm not in ("default", *NORMALISATIONS):
        raise ValueError(f"norm must be default, {', '.join(NORMALISATIONS)}; got {norm!r}")
    if norm == "train":  # the statistics the model holds: no re-estimation pass
        device = resolve_device(device)
        method.to(device)
        return _embed(method, dataset, device, batch_size)
    emb = embed_normalisations(method, dataset, device=device, batch_size=batch_size,
                               recalibration_batch_size=recalibration_batch_size, seed=seed)
    name = emb.default if norm == "default" else norm
    return emb.by_norm.get(name, emb.by_norm["train"]), emb.y
