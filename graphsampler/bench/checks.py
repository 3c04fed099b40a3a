r"""The checks of a :class:`~graphsampler.bench.RunConfig` that need no dataset: each
setting's type, and the method's constructor, which is built once per variant (a suite
of many seeds checks each variant once).

Like the config, importing this module loads no torch: the registry is imported when a
method is built.
"""
from __future__ import annotations

import dataclasses
import functools
import typing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphsampler.methods.base import ContrastiveMethod


def make_method(method: str, loss: str, options: dict[str, Any],
                num_features: int) -> ContrastiveMethod:
    r"""The model of ``method`` for graphs with ``num_features`` node features, with
    ``loss`` where its constructor takes one; a refused option is a ``ValueError``."""
    from graphsampler.bench.registry import METHODS, keyword_defaults
    model = METHODS[method].model
    if "loss" in keyword_defaults(model):
        options = {"loss": loss, **options}
    try:
        return model(num_features, **options)
    except TypeError as err:
        raise ValueError(f"{method}: {err}") from None


@functools.lru_cache(maxsize=256)
def check_method(method: str, loss: str, options: tuple[tuple[str, Any], ...]) -> None:
    r"""Builds the method once for one node feature: its constructor checks the options."""
    make_method(method, loss, dict(options), 1)  # a suite builds each variant once


def check_types(config: Any) -> None:
    r"""Checks each field of a config dataclass against its type hint (a ``bool`` is no
    ``int``, an ``int`` passes for a ``float``), with a one-line ``ValueError``."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        kinds = tuple(k for k in typing.get_args(hints[f.name]) or (hints[f.name],))
        if value is None and type(None) in kinds:
            continue
        ok = (int, float) if float in kinds else tuple(k for k in kinds if k is not type(None))
        if isinstance(value, bool) != (bool in kinds) or not isinstance(value, ok):
            name = " or ".join(k.__name__ for k in kinds if k is not type(None))
            raise ValueError(f"{f.name} must be {name}, got {value!r}")
