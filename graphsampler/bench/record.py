r"""The run record: one line of ``results.jsonl``, written by
:func:`~graphsampler.bench.run` and read by the report. Its schema is :class:`Record`;
the writer builds one and stores :meth:`Record.to_dict`, the reader takes any stored
line through :meth:`Record.from_dict`, so records written before a field existed still
read (the field takes its default).

================================  ========  ==============================================
key                               since     meaning
================================  ========  ==============================================
``method, loss, dataset,          always    what was run (required)
sampler, seed``
``accuracy_mean``                 always    mean SVM accuracy over the 10 folds, in %, under
                                            the protocol's default normalisation (required)
``config``                        always    :meth:`RunConfig.settings` of the run: every
                                            setting that applies, resolved (required)
``epochs, accuracy_std,           always    training length; std over folds; per fold:
fold_accuracies, best_c``                   accuracy and the chosen C
``num_graphs``                    later     the dataset size :math:`N`
``train_seconds, eval_seconds``   always    wall-clock times
``device, commit, versions``      always    provenance
``history``                       always    per epoch: ``loss``, the callbacks' keys
                                            (``neg_cos_mean`` ...) and ``sampler_stats``
                                            (``coverage``, ``walk_filled`` ...)
``num_candidates_resolved,        new       the resolved :math:`M` and :math:`k` (ints;
num_neighbors_resolved``                    absent for samplers without them)
``accuracy_by_norm``              new       ``{name: {"mean", "std", "fold_accuracies",
                                            "best_c"}}`` for the BatchNorm normalisations
                                            :data:`NORMS` evaluated on the same weights
``norm_default``                  new       the name whose accuracy is ``accuracy_mean``
``bn_collapse``                   new       degenerate running statistics were detected
                                            and re-estimated
``bn_variance_ratio``             new       the smallest ratio of a training running
                                            variance to the re-estimated one (the
                                            collapse test; below 1e-3 is a collapse)
================================  ========  ==============================================

It also holds the one definition of *the settings that differ from the defaults*
(:func:`changed_settings`) and how they split into a run's *group* and a sampler's
*variant* (:func:`split_settings`).

Example:
    .. code-block:: python

        record = Record.from_dict(json.loads(line))
        record.changed  # (('num_candidates', 1000), ('num_neighbors', 100))
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from graphsampler.bench.config import IDENTITY, PLACE, SAMPLING, RunConfig
from graphsampler.bench.registry import METHODS, SAMPLERS, keyword_defaults

#: The BatchNorm normalisations a record's ``accuracy_by_norm`` may hold: training's
#: running statistics, re-estimated on the clean graphs
#: (:data:`graphsampler.embed.NORMALISATIONS`).
NORMS = ("train", "clean")
#: Settings as sorted ``(name, value)`` pairs: hashable and ordered.
Settings = tuple[tuple[str, Any], ...]
REQUIRED = ("method", "loss", "dataset", "sampler", "seed", "accuracy_mean", "config")
#: Settings owned by the sampler (its options and what only changes its bank): they make
#: a *variant*; the rest of the changed settings make a *group*.
SAMPLER_OWNED = frozenset(
    {f.name for f in dataclasses.fields(RunConfig) if f.metadata["owner"] == "sampler"}
    | set(SAMPLING))


@cache
def _defaults(method: str, loss: str, sampler: str) -> dict[str, Any]:
    # Every setting that applies to the method and sampler, those whose default is None
    # (an option that is off) included: a record that sets one has changed it.
    config = RunConfig(method=method, loss=loss, sampler=sampler)
    accepted = {"run": None, "data": None, "method": keyword_defaults(METHODS[method].model),
                "sampler": keyword_defaults(SAMPLERS[sampler])}
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if accepted[f.metadata["owner"]] is None
            or f.name in accepted[f.metadata["owner"]]}


def changed_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    r"""The settings of a record's ``config`` that differ from the defaults of its
    method, loss and sampler (the paper's protocol), less :data:`IDENTITY` and
    :data:`PLACE`. One :class:`RunConfig` is built per (method, loss, sampler), not per
    record; keys this version does not know, or that do not apply, are ignored.

    Example:
        >>> changed_settings(RunConfig(sampler="proximity", epochs=5).settings())
        {'epochs': 5}
    """
    default = _defaults(config["method"], config["loss"], config["sampler"])
    return {k: v for k, v in config.items()
            if k in default and k not in IDENTITY and k not in PLACE and v != default[k]}


def split_settings(changed: Mapping[str, Any]) -> tuple[Settings, Settings]:
    r"""``(group, variant)``: the changed settings a run shares with its uniform
    baseline, and those owned by the sampler (:data:`SAMPLER_OWNED`), each sorted."""
    items = sorted(changed.items())
    return (tuple(i for i in items if i[0] not in SAMPLER_OWNED),
            tuple(i for i in items if i[0] in SAMPLER_OWNED))


def label(head: str, settings: Settings) -> str:
    r"""``head`` followed by `` name=value`` per setting, e.g.
    ``proximity num_candidates=1000``: for display only, never parsed."""
    return head + "".join(f" {k}={v}" for k, v in settings)


@dataclass(frozen=True)
class NormAccuracy:
    r"""The SVM accuracy under one normalisation (over the 10 folds, in %)."""
    mean: float
    std: float = math.nan
    fold_accuracies: tuple[float, ...] = ()
    best_c: tuple[float, ...] = ()


@dataclass(frozen=True)
class Record:
    r"""One run's record; the keys are documented in the module's table."""
    method: str
    loss: str
    dataset: str
    sampler: str
    seed: int
    accuracy_mean: float
    config: dict[str, Any]
    epochs: int | None = None
    num_graphs: int | None = None
    accuracy_std: float | None = None
    fold_accuracies: list[float] = field(default_factory=list)
    best_c: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    device: str = "unknown"
    commit: str = "unknown"
    versions: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    num_candidates_resolved: int | None = None
    num_neighbors_resolved: int | None = None
    accuracy_by_norm: dict[str, dict[str, Any]] | None = None
    norm_default: str | None = None
    bn_collapse: bool | None = None
    bn_variance_ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        r"""The record of a stored line; keys it does not know go to :attr:`extra`.

        Raises:
            TypeError: not a JSON object, or ``config`` is not one.
            KeyError: a key of :data:`REQUIRED` is missing.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"a record is a JSON object, got {type(data).__name__}")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise KeyError(f"missing {', '.join(missing)}")
        if not isinstance(data["config"], Mapping):
            raise TypeError(f"config is a JSON object, got {type(data['config']).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names and v is not None}
        return cls(**known, extra={k: v for k, v in data.items() if k not in names})

    def to_dict(self) -> dict[str, Any]:
        r"""The JSON object to store: every field, less the new optional ones that are
        None, with :attr:`extra` merged in."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name != "extra"}
        for name in ("num_candidates_resolved", "num_neighbors_resolved",
                     "accuracy_by_norm", "norm_default", "bn_collapse", "bn_variance_ratio",
                     "num_graphs"):
            if out[name] is None:
                del out[name]
        return {**out, **self.extra}

    @cached_property
    def changed(self) -> Settings:
        r"""The settings that differ from the defaults (:func:`changed_settings`)."""
        config = {**self.config, "method": self.method, "loss": self.loss,
                  "sampler": self.sampler}
        return tuple(sorted(changed_settings(config).items()))

    @cached_property
    def group_settings(self) -> Settings:
        return split_settings(dict(self.changed))[0]

    @cached_property
    def variant_settings(self) -> Settings:
        return split_settings(dict(self.changed))[1]

    @property
    def batch_size(self) -> int:
        return int(self.config.get("batch_size", 128))

    def norms(self) -> dict[str, NormAccuracy]:
        r"""``accuracy_by_norm`` as :class:`NormAccuracy` by name (empty for records
        written before it existed)."""
        return {name: NormAccuracy(float(v["mean"]), float(v.get("std", math.nan)),
                                   tuple(v.get("fold_accuracies", ())),
                                   tuple(v.get("best_c", ())))
                for name, v in (self.accuracy_by_norm or {}).items()}

    def last_stats(self) -> dict[str, Any]:
        r"""The last epoch's entries, its ``sampler_stats`` merged in (empty without a
        history)."""
        if not self.history:
            return {}
        last = self.history[-1]
        return {**last.get("sampler_stats", {}), **last}


__all__ = ["NORMS", "REQUIRED", "SAMPLER_OWNED", "NormAccuracy", "Record", "Settings",
           "changed_settings", "label", "split_settings"]
