r"""Re-estimating BatchNorm statistics before evaluation ("precise BatchNorm").

BatchNorm's running mean and variance are exponential averages over the *last* training
batches. With uniform batches those are a fair sample of the dataset; with hard batches
they are not: the last batches of a proximity or kNN epoch can hold near-identical
graphs (1-WL twins embed identically under a GIN), whose variance is about zero, and
the running variance follows them down. Evaluation then divides by
:math:`\sqrt{\epsilon + \text{var}}` with var near 0 and the frozen embeddings explode.
:func:`recalibrate_batchnorm` replaces the running statistics by their average over
uniformly drawn batches of the whole dataset (one pass, no gradients, parameters
untouched), which is what the statistics estimate under any sampler.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


def batchnorm_layers(module: torch.nn.Module) -> list[_BatchNorm]:
    r"""The BatchNorm layers of ``module`` that track running statistics."""
    return [m for m in module.modules()
            if isinstance(m, _BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batchnorm(module: torch.nn.Module, batches: Iterable[Any],
                          forward: Callable[[Any], Any]) -> int:
    r"""Sets every BatchNorm layer's running statistics of ``module`` to their average
    over ``batches``.

    Each layer's running mean and variance are reset and re-accumulated as a cumulative
    (equal-weight) average over one no-grad pass of ``forward`` on every batch, in
    training mode for the BatchNorm layers only (dropout and the like stay in the mode
    they were in). Parameters do not change. ``module`` is left in eval mode.

    Args:
        module (torch.nn.Module): The model whose BatchNorm layers to recalibrate.
        batches (Iterable): Batches ``forward`` takes, e.g. a uniformly shuffled
            ``DataLoader`` over the dataset.
        forward (callable): Runs ``module`` on one batch.

    Returns:
        int: The number of batches seen (0 leaves the statistics as they were).

    Example:
        .. code-block:: python

            loader = DataLoader(dataset, batch_size=128, shuffle=True)
            recalibrate_batchnorm(model, (b.to(device) for b in loader), model.embed)
    """
    layers = batchnorm_layers(module)
    module.eval()
    if not layers:
        return 0
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.momentum,
              m.num_batches_tracked.clone()) for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch weighs the same
        m.train()
    seen = 0
    try:
        for batch in batches:
            forward(batch)
            seen += 1
    finally:
        for m, (mean, var, momentum, tracked) in zip(layers, saved):
            m.momentum = momentum
            m.eval()
            if seen == 0:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(tracked)
    return seen


#: A channel whose evaluation scale :math:`1/\sqrt{\text{var} + \epsilon}` with
#: training's running variance is more than about 30 times the scale with the
#: re-estimated one (a ratio of :math:`\text{var} + \epsilon` below 1e-3) has
#: collapsed: the statistics follow a few near-identical batches, not the data, and blow
#: the embeddings up. Measured (``docs/sampler-study.md``): runs with normal accuracy at
#: 3.6e-3 to 0.6; a PROTEINS run at 9.8e-4 whose embeddings were 9 times larger and 1.6
#: points worse under training's statistics.
COLLAPSE_RATIO = 1e-3


def batchnorm_statistics(module: torch.nn.Module) -> list[tuple[Tensor, Tensor]]:
    r"""Copies of the running ``(mean, var)`` of every BatchNorm layer of ``module``
    (:func:`batchnorm_layers` order); :func:`load_batchnorm_statistics` puts them back.

    Example:
        .. code-block:: python

            saved = batchnorm_statistics(model)
            recalibrate_batchnorm(model, batches, model.embed)
            load_batchnorm_statistics(model, saved)  # training's statistics again
    """
    return [(m.running_mean.clone(), m.running_var.clone())
            for m in batchnorm_layers(module)]


@torch.no_grad()
def load_batchnorm_statistics(module: torch.nn.Module,
                              statistics: list[tuple[Tensor, Tensor]]) -> None:
    r"""Sets every BatchNorm layer's running ``(mean, var)`` to ``statistics``, as
    :func:`batchnorm_statistics` returned them."""
    layers = batchnorm_layers(module)
    if len(layers) != len(statistics):
        raise ValueError(f"statistics for {len(statistics)} BatchNorm layers given, the "
                         f"module has {len(layers)}")
    for m, (mean, var) in zip(layers, statistics):
        m.running_mean.copy_(mean)
        m.running_var.copy_(var)


def variance_ratio(statistics: list[tuple[Tensor, Tensor]],
                   reference: list[tuple[Tensor, Tensor]], eps: float = 1e-5) -> float:
    r"""The smallest ratio, over every layer and channel, of
    :math:`\text{var} + \epsilon` with a running variance of ``statistics`` to the same
    with the channel's variance in ``reference`` (statistics re-estimated over the
    dataset, :func:`recalibrate_batchnorm`): the squared inverse of how much training's
    statistics amplify that channel at evaluation. ``eps`` is BatchNorm's own
    :math:`\epsilon`, which bounds the amplification of a channel that is nearly constant
    over the whole dataset (a dead unit), so such a channel is no collapse. A non-finite
    running statistic gives ``0``. Below :data:`COLLAPSE_RATIO` the statistics have
    collapsed.

    Example:
        .. code-block:: python

            train_stats = batchnorm_statistics(model)
            recalibrate_batchnorm(model, batches, model.embed)
            variance_ratio(train_stats, batchnorm_statistics(model)) < COLLAPSE_RATIO  # False
    """
    lowest = float("inf")
    for (mean, var), (_, ref) in zip(statistics, reference):
        if not (torch.isfinite(mean).all() and torch.isfinite(var).all()):
            return 0.0
        lowest = min(lowest, ((var + eps) / (ref + eps)).min().item())
    return lowest
