r"""The names the command line offers as choices, without importing what they name.

Building the parser (``graphsampler --help``, a refused argument) must not load torch
or PyG; the registries (:mod:`.registry`) import the models and samplers. This table
repeats their names, and ``tests/bench/test_config.py`` checks that it matches them.

Example:
    >>> LOSSES["mvgrl"]
    ('jsd',)
"""
from __future__ import annotations

#: The methods of :data:`~graphsampler.bench.registry.METHODS`.
METHOD_NAMES = ("graphcl", "mvgrl")
#: The losses of each method, its default first.
LOSSES = {"graphcl": ("infonce", "dcl", "hcl"), "mvgrl": ("jsd",)}
#: The samplers of :data:`~graphsampler.bench.registry.SAMPLERS`.
SAMPLER_NAMES = ("uniform", "fixed", "knn", "proximity", "adaptive")
#: The training precisions of :data:`graphsampler.precision.PRECISIONS`.
PRECISIONS = ("fp32", "bf16")

__all__ = ["LOSSES", "METHOD_NAMES", "PRECISIONS", "SAMPLER_NAMES"]
