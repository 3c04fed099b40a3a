r"""Moved to :mod:`graphsampler.bench` (:mod:`~graphsampler.bench.provenance`); these
names stay importable from here for one step, until the benchmark scripts import them
from there."""
from graphsampler.bench.provenance import device_name, git_commit

__all__ = ["device_name", "git_commit"]
