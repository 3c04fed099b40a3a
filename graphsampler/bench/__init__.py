r"""Experiments above the training loop: run configurations, the method and sampler
registries, one run, provenance, suites, the run queue, results files, statistics, the
report and its plots. One concept per module:

========================  ==============================================================
:mod:`.config`            :class:`RunConfig`: one run's settings, checked by building them
:mod:`.registry`          :data:`METHODS` (model, losses, lr, eval kernel, data) and
                          :data:`SAMPLERS`
:mod:`.runner`            :func:`run`: train + evaluate one config into a record
:mod:`.provenance`        commit, device name, versions
:mod:`.suite`             suite TOML files (shipped in ``suites/``) into run configs
:mod:`.queue`             :func:`run_suite`: pending runs, lock, checkpoints, scripts
:mod:`.record`            :class:`Record`: the schema of a results line, shared by the
                          writer and the reader; settings that differ from the defaults
:mod:`.results`           ``results.jsonl``: append, read, record keys
:mod:`.stats`             cells, means over seeds, paired differences, the paper table
:mod:`.ablation`          variants paired with uniform, seed by seed, with diagnostics
:mod:`.pooled`            pooled Δ over datasets (cluster bootstrap, random effects), WLS
:mod:`.report`            ``report.md`` (:mod:`.paired_report`: its paired sections)
:mod:`.plots`             ``accuracy.png``, ``hardness.png``, ``m_over_n.png``,
                          ``b_over_n.png``
========================  ==============================================================

Example:
    .. code-block:: python

        from graphsampler.bench import RunConfig, run
        record = run(RunConfig(dataset="MUTAG", sampler="proximity", epochs=2))
"""
import importlib
from typing import Any

#: Where each name lives: imported on first use (PEP 562), so that the command line
#: builds its parser from :mod:`.config` without loading torch.
_EXPORTS = {
    "RunConfig": ".config",
    "load_graphcl_dataset": "graphsampler.data.prepare",
    "load_mvgrl_dataset": "graphsampler.data.prepare",
    "device_name": ".provenance", "git_commit": ".provenance", "versions": ".provenance",
    "BenchResult": ".queue", "checkpoint_path": ".queue", "pending": ".queue",
    "run_suite": ".queue",
    "METHODS": ".registry", "SAMPLERS": ".registry", "MethodSpec": ".registry",
    "render_report": ".report", "write_report": ".report",
    "RESULTS_FILE": ".results", "append_record": ".results", "read_results": ".results",
    "run": ".runner",
    "Cell": ".stats", "Stat": ".stats", "paper_results": ".stats", "summarize": ".stats",
    "Suite": ".suite", "load_suite": ".suite", "suite_names": ".suite",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graphsampler.bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "BenchResult", "Cell", "METHODS", "MethodSpec", "RESULTS_FILE", "RunConfig", "SAMPLERS",
    "Stat", "Suite", "append_record", "checkpoint_path", "device_name", "git_commit",
    "load_graphcl_dataset", "load_mvgrl_dataset", "load_suite", "paper_results", "pending",
    "read_results", "render_report", "run", "run_suite", "summarize", "suite_names",
    "versions", "write_report",
]
