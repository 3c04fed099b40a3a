r"""The run configuration: everything that defines one run, checked by building the
real objects it names, so that it accepts exactly what they accept.

Each field is a setting: its CLI flag (``--batch-size``) and suite key (``batch_size``)
are derived from it (:mod:`graphsampler.cli`, :mod:`graphsampler.bench.suite`). A
*method option* goes to the method's constructor and a *sampler option* to the
sampler's, each only when that constructor takes it; so adding a sampler option is one
field here, ``name: type = sampler_option(default, "help")``, and a record holds only
the settings that apply to its method and sampler (:meth:`RunConfig.settings`).
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphsampler.bench.checks import check_method, check_types, make_method
from graphsampler.bench.names import LOSSES, PRECISIONS, SAMPLER_NAMES

if TYPE_CHECKING:  # the registries import torch: loaded when a config is built
    from graphsampler.methods.base import ContrastiveMethod
    from graphsampler.samplers import BaseBatchSampler

#: Settings that say where a run computes and reads, not what it computes.
PLACE = ("device", "data_root")
#: Method settings that change only what the sampler's bank holds: a uniform run is
#: the same run whatever they are, so a sampler study pairs across them.
SAMPLING = ("bank",)
#: Settings that name a cell and a run rather than a variant of it.
IDENTITY = ("method", "loss", "dataset", "sampler", "seed")
_PROBE_ITEMS = 1 << 30  # sampler checks that need no dataset (the bank is lazy)


def setting(default: Any, help: str, owner: str = "run") -> Any:
    r"""A :class:`RunConfig` field: its default, a one-line help, and its owner
    (``run``, ``method``: passed to the method's constructor, ``sampler``, or ``data``:
    passed to the dataset preparation and recorded only when set)."""
    return field(default=default, metadata={"help": help, "owner": owner})


def method_option(default: Any, help: str) -> Any:
    r"""A setting passed to the method's constructor when it takes it."""
    return setting(default, help, "method")


def sampler_option(default: Any, help: str) -> Any:
    r"""A setting passed to the sampler's constructor when it takes it."""
    return setting(default, help, "sampler")


@dataclass(frozen=True)
class RunConfig:
    r"""One run: a method, a sampler, a dataset and a seed, and how to train them; the
    defaults are the paper's protocol (20 epochs, batch 128, the methods' own learning
    rates and widths, restart probability 0.2) and the proximity graph's size that the
    sampler study chose, M = 0.03 N and k = M / 10 (``docs/sampler-study.md``; the paper
    publishes no graph settings). ``None`` means the method's own (``loss``,
    ``lr``, ``hidden_channels``); a built config holds the resolved value.

    Raises:
        ValueError: a name or value that the method, the sampler or the loop refuses.

    Example:
        >>> config = RunConfig(method="mvgrl", sampler="proximity", restart_prob=0.1)
        >>> config.loss, config.lr
        ('jsd', 0.001)
        >>> "augmentation" in config.settings()  # a GraphCL option
        False
    """
    method: str = setting("graphcl", "contrastive method")
    loss: str | None = setting(None, "loss (default: the method's first)")
    dataset: str = setting("MUTAG", "TU dataset name")
    sampler: str = setting("uniform", "batch sampler")
    seed: int = setting(0, "seed of everything random, the SVM folds included")
    epochs: int = setting(20, "training epochs")
    batch_size: int = setting(128, "graphs per mini-batch")
    lr: float | None = setting(None, "Adam learning rate (default: the method's)")
    hidden_channels: int | None = method_option(
        None, "encoder width (default: the method's, graphcl 32, mvgrl 512)")
    augmentation: str = method_option(
        "random2", "GraphCL's second view: random2, random3, random4, dnodes, pedges, "
                   "subgraph, mask_nodes")
    bank: str = method_option(
        "projection", "what GraphCL puts in the sampler's bank: projection (first view), "
                      "both (both views' projections), encoder (first view)")
    exclude_copies: bool = method_option(
        False, "GraphCL: an anchor's isomorphic copies (graphsampler.data.copies, computed "
               "from structure at load) are no negatives in the loss")
    num_candidates: int | float = sampler_option(
        0.03, "M: candidates per instance of the proximity graph (a float in (0, 1]: a "
              "fraction of the dataset size N; the paper's image setting is 1000)")
    num_neighbors: int | float = sampler_option(
        0.003, "k: neighbours kept per instance (a float in (0, 1]: a fraction of N; "
               "the paper's image setting is 100)")
    restart_prob: float = sampler_option(0.2, "alpha: restart probability of the "
                                              "random walk")
    restart_schedule: str = sampler_option(
        "constant", "constant, or decay: the published schedule from restart_prob down "
                    "by 0.02 per epoch to 0.05")
    epoch_rule: str = sampler_option(
        "fixed", "epoch rule of the hard samplers: fixed (coverage restarts every epoch) "
                 "or cover (starts drawn until every graph was in a batch, the "
                 "published rule)")
    twin_threshold: float | None = sampler_option(
        None, "cosine at and above which a candidate is the anchor's twin and not "
              "linked (e.g. 0.999; default: none)")
    dedupe_twins: float | None = sampler_option(
        None, "proximity samplers: cosine at and above which two graphs are twins; a "
              "batch holds at most one of each twin group (e.g. 0.999; default: none)")
    dedupe_copies: bool = sampler_option(
        False, "proximity samplers: a batch holds at most one graph of each isomorphism "
               "class (graphsampler.data.copies, computed from structure at load)")
    neighbor_offset: int = sampler_option(
        0, "proximity samplers: p, skip each graph's p nearest candidates and link ranks "
           "[p, p + k) (default: 0, the top k)")
    walk_fraction: float | None = sampler_option(
        None, "proximity samplers: fraction of each batch grown by the walk, in (0, 1]; "
              "the rest is drawn uniformly (default: 1, the whole batch)")
    target_hardness: float | None = sampler_option(
        None, "adaptive sampler: target hardness ratio in (0, 1), 0 uniform, 1 kNN "
              "(default: the sampler's)")
    drop_last: bool | None = sampler_option(
        None, "drop each epoch's last batch when it is short (default: keep it)")
    node_attributes: bool | None = setting(
        None, "add the dataset's continuous node attributes to the node features "
              "(PyG's use_node_attr; datasets that have them, e.g. PROTEINS, BZR, COX2)",
        "data")
    precision: str = setting("fp32", "fp32, or bf16: training steps under bfloat16 "
                                     "autocast")
    device: str = setting("auto", "auto (CUDA if present), cpu, cuda, cuda:N")
    data_root: str | None = setting(None, "dataset folder (default: $GRAPHSAMPLER_DATA "
                                          "or ./datasets)")

    def __post_init__(self) -> None:
        # The checks of names and numbers first, from the names table: a refused value
        # costs no import of torch (the command line refuses it at once).
        check_types(self)
        losses_of, samplers = LOSSES, SAMPLER_NAMES
        if self.method not in losses_of or self.sampler not in samplers:
            # a name the table lacks: a method or sampler registered at run time?
            from graphsampler.bench.registry import METHODS, SAMPLERS
            losses_of = {name: spec.losses for name, spec in METHODS.items()}
            samplers = tuple(SAMPLERS)
        if self.method not in losses_of:
            raise ValueError(f"unknown method {self.method!r}; choose one of "
                             f"{', '.join(losses_of)}")
        if self.sampler not in samplers:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of "
                             f"{', '.join(samplers)}")
        losses = losses_of[self.method]
        loss = losses[0] if self.loss is None else self.loss
        if loss not in losses:
            raise ValueError(f"{self.method} takes the loss {', '.join(losses)}, "
                             f"got {loss!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a number > 0, got {float(self.lr)!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of "
                             f"{list(PRECISIONS)}")
        from graphsampler.bench.registry import METHODS, keyword_defaults
        spec = METHODS[self.method]
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "lr", spec.lr if self.lr is None else float(self.lr))
        if self.hidden_channels is None and "hidden_channels" in keyword_defaults(spec.model):
            object.__setattr__(self, "hidden_channels",
                               keyword_defaults(spec.model)["hidden_channels"])
        check_method(self.method, self.loss, tuple(self._options("method").items()))
        self._check_sampler()

    def _options(self, owner: str) -> dict[str, Any]:
        from graphsampler.bench.registry import METHODS, SAMPLERS, keyword_defaults
        cls = METHODS[self.method].model if owner == "method" else SAMPLERS[self.sampler]
        accepted = keyword_defaults(cls)
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata["owner"] == owner and f.name in accepted
                and getattr(self, f.name) is not None}

    def _check_sampler(self) -> None:
        # Without the dataset, N is unknown: counts and fractions are checked as values
        # (and k < M where both are counts), the other options by building the sampler
        # for a stand-in N, with fractions left at their defaults. The check against the
        # real N is check_size's, once the dataset is known.
        from graphsampler.bench.registry import SAMPLERS
        from graphsampler.samplers._checks import resolve_count
        options = self._options("sampler")
        counts = {name: options.pop(name) for name in list(options) if name in _COUNTS}
        for name, value in counts.items():
            resolve_count(value, 1, name)
        if all(type(counts.get(n)) is int for n in ("num_candidates", "num_neighbors")):
            options.update(counts)  # two counts: k < M (and p + k < M) hold at any N
        SAMPLERS[self.sampler](_PROBE_ITEMS, self.batch_size, seed=self.seed, **options)

    def check_size(self, num_items: int) -> None:
        r"""Checks the run against a dataset of ``num_items`` graphs (the batch size,
        counts and fractions of :math:`N`), with a one-line ``ValueError`` naming the
        dataset and :math:`N`, before any training."""
        try:
            self.build_sampler(num_items)
        except ValueError as err:
            raise ValueError(f"{self.dataset} has {num_items} graphs: {err}") from None
        if not self.drop_last and num_items > 1 and num_items % self.batch_size == 1:
            raise ValueError(
                f"{self.dataset} has {num_items} graphs: batch_size {self.batch_size} "
                f"leaves a last batch of 1 graph, which BatchNorm and an in-batch "
                f"contrastive loss cannot train on; give drop_last (--drop-last) or "
                f"another batch size")

    def inapplicable(self, given: typing.Iterable[str]) -> str | None:
        r"""A one-line reason why one of the settings ``given`` (field names set away
        from their defaults) does not apply to this run's method or sampler, else
        :obj:`None`.

        Example:
            >>> RunConfig().inapplicable(["num_candidates"])
            'num_candidates does not apply to the uniform sampler; proximity, adaptive take it'
        """
        from graphsampler.bench.registry import METHODS, SAMPLERS, keyword_defaults
        for name in given:
            owner = RunConfig.__dataclass_fields__[name].metadata["owner"]
            if owner in ("run", "data") or name in self._options(owner) or name in keyword_defaults(
                    METHODS[self.method].model if owner == "method"
                    else SAMPLERS[self.sampler]):
                continue
            if owner == "method":
                takers = [m for m, spec in METHODS.items() if name in keyword_defaults(spec.model)]
                return (f"{name} does not apply to the {self.method} method; "
                        f"{', '.join(takers)} take{'s' if len(takers) == 1 else ''} it")
            takers = [n for n, cls in SAMPLERS.items() if name in keyword_defaults(cls)]
            return (f"{name} does not apply to the {self.sampler} sampler; "
                    f"{', '.join(takers)} take{'s' if len(takers) == 1 else ''} it")
        return None

    def build_method(self, num_features: int) -> ContrastiveMethod:
        r"""The method's model for graphs with ``num_features`` node features."""
        return make_method(self.method, self.loss, self._options("method"), num_features)

    def build_sampler(self, num_items: int) -> BaseBatchSampler:
        r"""The batch sampler for a dataset of ``num_items`` graphs."""
        from graphsampler.bench.registry import SAMPLERS
        return SAMPLERS[self.sampler](num_items, self.batch_size, seed=self.seed,
                                      **self._options("sampler"))

    def settings(self) -> dict[str, Any]:
        r"""The settings that apply to this run's method and sampler (a GraphCL option
        such as ``augmentation`` is left out of an MVGRL run), resolved: what a record
        stores."""
        applies = {**self._options("method"), **self._options("sampler")}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata["owner"] == "run" or f.name in applies
                or (f.metadata["owner"] == "data" and getattr(self, f.name))}

    def key(self) -> tuple:
        r"""What identifies the run in a results file (:meth:`settings` less
        :data:`PLACE`)."""
        return tuple((k, v) for k, v in self.settings().items() if k not in PLACE)

    def describe(self) -> str:
        r"""A one-line name, e.g. ``graphcl/infonce MUTAG proximity seed 0``."""
        return f"{self.method}/{self.loss} {self.dataset} {self.sampler} seed {self.seed}"

    @classmethod
    def from_record(cls, config: dict[str, Any]) -> RunConfig:
        r"""The config of a record's ``config`` (keys this version lacks are dropped,
        new ones take their defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in config.items() if k in names})


#: The settings given as a count or a fraction of the dataset size N (``int | float``).
_COUNTS = tuple(name for name, hint in typing.get_type_hints(RunConfig).items()
                if set(typing.get_args(hint)) == {int, float})


__all__ = ["IDENTITY", "PLACE", "SAMPLING", "RunConfig", "method_option", "sampler_option",
           "setting"]
