r"""The registries of methods and samplers, by the names runs, the CLI and suites use.

A method declares everything a run needs in its :class:`MethodSpec` line: the model
class, its losses, its default learning rate, its evaluation kernel and the dataset
preparation it trains on. Adding a method is one new file (the model, a
:class:`~graphsampler.methods.ContrastiveMethod`) plus one line here; its constructor's
keyword arguments that :class:`~graphsampler.bench.RunConfig` also has (``loss``,
``hidden_channels``, ``augmentation``, ...) are passed to it. The command line offers
the names of :mod:`.names` as its choices (so that it starts without torch): a method
or sampler added here is added there too (a test compares them).

Example:
    >>> METHODS["mvgrl"].lr, METHODS["mvgrl"].eval_kernel
    (0.001, 'linear')
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch.utils.data import Dataset

from graphsampler.data.prepare import load_graphcl_dataset, load_mvgrl_dataset
from graphsampler.methods.base import ContrastiveMethod
from graphsampler.methods.graphcl import LOSSES as GRAPHCL_LOSSES
from graphsampler.methods.graphcl import GraphCL
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.samplers import (
    AdaptiveProximityBatchSampler,
    BaseBatchSampler,
    FixedBatchSampler,
    KNNBatchSampler,
    ProximityBatchSampler,
    UniformBatchSampler,
)


@dataclass(frozen=True)
class MethodSpec:
    r"""What a run needs to know about a method.

    Attributes:
        model: The model class, built as ``model(num_features, **options)``.
        losses: The loss names the method trains with; the first is the default.
        lr: The Adam learning rate of the method's reference code.
        eval_kernel: The SVM of its evaluation protocol, ``"rbf"`` or ``"linear"``.
        prepare: ``prepare(name, root) -> dataset``: the dataset with the node features
            (and views) the method trains on (:mod:`graphsampler.data.prepare`).
    """
    model: type[ContrastiveMethod]
    losses: tuple[str, ...]
    lr: float
    eval_kernel: Literal["rbf", "linear"]
    prepare: Callable[[str, str | os.PathLike | None], Dataset]


#: The methods, by name.
METHODS: dict[str, MethodSpec] = {
    "graphcl": MethodSpec(GraphCL, tuple(GRAPHCL_LOSSES), 0.01, "rbf", load_graphcl_dataset),
    "mvgrl": MethodSpec(MVGRL, ("jsd",), 0.001, "linear", load_mvgrl_dataset),
}

#: The batch samplers, by name; built as ``cls(num_items, batch_size, seed=..., **options)``.
SAMPLERS: dict[str, type[BaseBatchSampler]] = {
    "uniform": UniformBatchSampler,
    "fixed": FixedBatchSampler,
    "knn": KNNBatchSampler,
    "proximity": ProximityBatchSampler,
    "adaptive": AdaptiveProximityBatchSampler,
}


def keyword_defaults(cls: type) -> dict[str, object]:
    r"""The keyword arguments of ``cls``'s constructor, with their defaults; a
    constructor that passes ``**kwargs`` on to its base class's also takes the base's.

    Example:
        >>> keyword_defaults(MVGRL)["hidden_channels"]
        512
    """
    out: dict[str, object] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                out.setdefault(p.name, p.default)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return out


__all__ = ["METHODS", "SAMPLERS", "MethodSpec", "keyword_defaults"]
