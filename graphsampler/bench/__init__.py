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
from graphsampler.bench.config import RunConfig
from graphsampler.bench.provenance import device_name, git_commit, versions
from graphsampler.bench.queue import BenchResult, checkpoint_path, pending, run_suite
from graphsampler.bench.registry import METHODS, SAMPLERS, MethodSpec
from graphsampler.bench.report import render_report, write_report
from graphsampler.bench.results import RESULTS_FILE, append_record, read_results
from graphsampler.bench.runner import run
from graphsampler.bench.stats import Cell, Stat, paper_results, summarize
from graphsampler.bench.suite import Suite, load_suite, suite_names
from graphsampler.data.prepare import load_graphcl_dataset, load_mvgrl_dataset

__all__ = [
    "BenchResult", "Cell", "METHODS", "MethodSpec", "RESULTS_FILE", "RunConfig", "SAMPLERS",
    "Stat", "Suite", "append_record", "checkpoint_path", "device_name", "git_commit",
    "load_graphcl_dataset", "load_mvgrl_dataset", "load_suite", "paper_results", "pending",
    "read_results", "render_report", "run", "run_suite", "summarize", "suite_names",
    "versions", "write_report",
]
