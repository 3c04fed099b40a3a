r"""The run queue: a suite's runs that are not yet in its results file, run one after
the other under a lock on the results folder, each record appended as soon as it exists,
then the suite's scripts and the report.

Example:
    .. code-block:: python

        result = run_suite(load_suite("quick"), "runs/quick")
        result.ok  # True
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

try:
    import fcntl
except ImportError:  # Windows: no advisory file locks; run one bench per folder there
    fcntl = None

from graphsampler.bench.config import RunConfig
from graphsampler.bench.report import write_report
from graphsampler.bench.results import RESULTS_FILE, append_record, read_results, record_key
from graphsampler.bench.runner import run
from graphsampler.bench.suite import Script, Suite

CHECKPOINTS_DIR = "checkpoints"
LOCK_FILE = ".bench.lock"


@dataclass
class BenchResult:
    r"""What :func:`run_suite` did.

    Attributes:
        records: The records of the runs made now.
        skipped: How many runs were already in ``results.jsonl``.
        failed: ``(config, error)`` of each run that raised an exception.
        scripts: ``(script, status)``, status ``ok``, ``missing`` or ``failed (exit N)``.
        report: The report file written, if any.
    """
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[RunConfig, str]] = field(default_factory=list)
    scripts: list[tuple[Script, str]] = field(default_factory=list)
    report: Path | None = None

    @property
    def ok(self) -> bool:
        r"""Whether every run and script succeeded (a missing script is not a failure)."""
        return not self.failed and all(s in ("ok", "missing") for _, s in self.scripts)


def checkpoint_path(out_dir: str | os.PathLike[str], config: RunConfig) -> Path:
    r"""The checkpoint file of a run: readable name plus a hash of its key."""
    digest = hashlib.sha1(repr(config.key()).encode()).hexdigest()[:10]
    name = f"{config.method}-{config.loss}-{config.dataset}-{config.sampler}-s{config.seed}"
    return Path(out_dir) / CHECKPOINTS_DIR / f"{name}-{digest}.pt"


def pending(suite: Suite, out_dir: str | os.PathLike[str]) -> tuple[list[RunConfig], int]:
    r"""The suite's runs not yet in ``out_dir/results.jsonl``, and how many are."""
    results = Path(out_dir) / RESULTS_FILE
    done = {record_key(r) for r in read_results(results)} if results.exists() else set()
    todo = [c for c in suite.configs if c.key() not in done]
    return todo, len(suite.configs) - len(todo)


def run_suite(suite: Suite, out_dir: str | os.PathLike[str], *, progress: bool = True,
              quick: bool = False) -> BenchResult:
    r"""Runs a suite's missing runs, then its scripts, then writes the report (when
    the suite has runs with results).

    Every finished run is appended to ``out_dir/results.jsonl`` at once, so an
    interruption (Ctrl-C, a kill) loses at most the run in progress, and that one resumes
    from its checkpoint in ``out_dir/checkpoints/`` (deleted once its record is
    written). A run that raises an exception is reported and the suite goes on.

    Args:
        suite (Suite): From :func:`~graphsampler.bench.load_suite`.
        out_dir (str or os.PathLike): Results folder.
        progress (bool): Show the suite's and each run's progress bars.
        quick (bool): Pass ``--quick`` to the suite's scripts.

    Returns:
        BenchResult: The new records, skipped and failed runs, script statuses.

    Raises:
        ValueError: Another bench is running on ``out_dir``, or it is not a folder.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file; give a folder for the results")
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir):
        return _run_suite(suite, out_dir, progress, quick)


@contextlib.contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    r"""Holds ``out_dir/.bench.lock`` so that two benches never write one results file
    (the lock goes with the process, even a killed one)."""
    with (out_dir / LOCK_FILE).open("a") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ValueError(f"another bench is running on {out_dir}; wait for it or "
                                 f"give --out another folder") from None
        yield


def _run_suite(suite: Suite, out_dir: Path, progress: bool, quick: bool) -> BenchResult:
    todo, skipped = pending(suite, out_dir)
    result = BenchResult(skipped=skipped)
    bar = tqdm(todo, desc=f"bench {suite.name}", unit="run", disable=not progress)
    for config in bar:
        bar.set_postfix_str(config.describe())
        ckpt = checkpoint_path(out_dir, config)
        try:
            record = run(config, checkpoint=ckpt, progress=progress)
        except Exception as err:  # noqa: BLE001 -- one broken run must not end the suite
            message = "".join(traceback.format_exception_only(err)).strip()
            result.failed.append((config, message))
            tqdm.write(f"FAILED {config.describe()}: {message}", file=sys.stderr)
            continue
        append_record(out_dir / RESULTS_FILE, record)
        ckpt.unlink(missing_ok=True)
        result.records.append(record)
        tqdm.write(f"{config.describe()}: {record['accuracy_mean']:.2f} +- "
                   f"{record['accuracy_std']:.2f} (train {record['train_seconds']:.1f}s, "
                   f"eval {record['eval_seconds']:.1f}s)", file=sys.stderr)
    for script in suite.scripts:
        result.scripts.append((script, run_script(script, out_dir, quick=quick)))
    if result.records or result.skipped:
        result.report = write_report(out_dir)
    return result


def run_script(script: Script, out_dir: Path, *, quick: bool = False) -> str:
    r"""Runs one benchmark script from the current folder, its output echoed and saved
    to ``out_dir/<script stem>.log``.

    Returns:
        str: ``ok``, ``missing`` (no such file: skipped) or ``failed (exit N)``.
    """
    if not script.path.is_file():
        print(f"skipped {script.path}: not found in {Path.cwd()}", file=sys.stderr)
        return "missing"
    command = [sys.executable, str(script.path), *script.args, *(["--quick"] if quick else [])]
    print(f"$ {' '.join(command)}", file=sys.stderr)
    tic = time.perf_counter()
    with (out_dir / f"{script.path.stem}.log").open("w") as log, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
    seconds = time.perf_counter() - tic
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    print(f"{script.path.name}: {status} in {seconds:.1f}s", file=sys.stderr)
    return status


__all__ = ["BenchResult", "checkpoint_path", "pending", "run_script", "run_suite"]
