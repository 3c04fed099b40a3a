r"""Benchmark suites: TOML files of experiment cells (and scripts), run resumably.

A suite is a TOML file in ``benchmarks/suites/`` (``quick``, ``paper``, ``speed``) or
anywhere else. Its schema::

    description = "one line on what the suite is for"      # optional

    [[cells]]                     # any number; each expands to the product below
    methods = ["graphcl", "mvgrl"]
    losses = ["infonce", "jsd"]   # optional: each method's first loss; a loss goes
                                  # with the methods that take it (graphcl: infonce,
                                  # dcl, hcl; mvgrl: jsd)
    datasets = ["MUTAG", "IMDB-BINARY"]
    samplers = ["uniform", "proximity"]
    seeds = [0, 1]
    epochs = 20                   # optional overrides of the paper's settings:
                                  # epochs, batch_size, lr, num_candidates,
                                  # num_neighbors, restart_prob, augmentation,
                                  # precision

    [[scripts]]                   # any number; run as subprocesses after the cells
    path = "benchmarks/sampler_speed.py"   # relative to the repository root
    args = ["--repeats", "3"]              # optional

A cell expands dataset by dataset (in the listed order), then method and loss, then
seed, then sampler, so that an interrupted suite has finished whole sampler
comparisons of the first datasets. :func:`run_suite` appends one JSON record per run to
``results.jsonl`` and skips every run whose :meth:`RunConfig.key` is already there.

Example:
    >>> suite = load_suite("quick", datasets=["MUTAG"])
    >>> result = run_suite(suite, Path("benchmarks/results/quick"))
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from tqdm.auto import tqdm

try:
    import fcntl
except ImportError:  # Windows: no advisory file locks; run one bench per folder there
    fcntl = None

import graphsampler
from graphsampler import experiment
from graphsampler.augment import GRAPHCL_AUGMENTATIONS
from graphsampler.data import known_datasets
from graphsampler.experiment import METHOD_LOSSES, SAMPLERS, RunConfig
from graphsampler.precision import PRECISIONS
from graphsampler.report import RESULTS_FILE, read_results, record_key, write_report

#: The repository checkout that holds ``benchmarks/``.
REPO_ROOT = Path(graphsampler.__file__).resolve().parents[1]
SUITES_DIR = REPO_ROOT / "benchmarks" / "suites"
CHECKPOINTS_DIR = "checkpoints"
LOCK_FILE = ".bench.lock"

_TOP_KEYS = ("description", "cells", "scripts")
_LIST_KEYS = {"methods": str, "losses": str, "datasets": str, "samplers": str, "seeds": int}
_REQUIRED_KEYS = ("methods", "datasets", "samplers", "seeds")
#: Settings a cell may override, with their type (the defaults are RunConfig's).
OVERRIDES = {"epochs": int, "batch_size": int, "lr": float, "num_candidates": int,
             "num_neighbors": int, "restart_prob": float, "augmentation": str,
             "precision": str}
_STRING_CHOICES = {"augmentation": GRAPHCL_AUGMENTATIONS, "precision": PRECISIONS}
_SCRIPT_KEYS = ("path", "args")


@dataclass(frozen=True)
class Script:
    r"""A benchmark script of a suite.

    Attributes:
        path: The script file (absolute).
        args: Its command-line arguments.
    """
    path: Path
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    r"""A parsed suite: the runs its cells expand to and its scripts.

    Attributes:
        name: The suite's name (its file's stem).
        description: Its one-line description.
        configs: The runs, in the order they will run.
        scripts: The benchmark scripts, in order.
    """
    name: str
    description: str = ""
    configs: tuple[RunConfig, ...] = ()
    scripts: tuple[Script, ...] = ()


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


def suite_names() -> list[str]:
    r"""The suites shipped in ``benchmarks/suites/`` (file stems, sorted)."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def resolve_suite(suite: str | os.PathLike[str]) -> Path:
    r"""The TOML file of a suite name (``quick``, ``paper``, ``speed``) or path.

    Args:
        suite (str or os.PathLike): A name of :func:`suite_names` or a path to a
            ``.toml`` file.

    Example:
        >>> resolve_suite("quick").name
        'quick.toml'
    """
    text = os.fspath(suite)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"suite file {path} not found; give an existing .toml file or "
                             f"one of the suites {', '.join(suite_names())}")
        return path
    if text not in suite_names():
        raise ValueError(f"unknown suite {text!r}; choose one of {', '.join(suite_names())} "
                         f"or give a path to a .toml file")
    return SUITES_DIR / f"{text}.toml"


def load_suite(suite: str | os.PathLike[str], *, datasets: Sequence[str] | None = None,
               device: str = "auto", data_root: str | None = None) -> Suite:
    r"""Reads a suite file and expands its cells into run configurations.

    Args:
        suite (str or os.PathLike): A suite name or a path to a ``.toml`` file.
        datasets (Sequence[str], optional): Keep only the runs on these datasets (each
            must occur in the suite).
        device (str): Device of every run (``auto``, ``cpu``, ``cuda``...).
        data_root (str, optional): Dataset folder of every run.

    Returns:
        Suite: The runs in order and the scripts.

    Example:
        >>> [c.dataset for c in load_suite("quick", datasets=["MUTAG"]).configs][:1]
        ['MUTAG']
    """
    path = resolve_suite(suite)
    try:
        spec = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"suite file {path} is not valid TOML: {err}") from err
    _check_keys(spec, _TOP_KEYS, f"suite file {path}")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"suite file {path}: description must be a string")
    cells = _table_list(spec, "cells", path)
    scripts = _table_list(spec, "scripts", path)
    if not cells and not scripts:
        raise ValueError(f"suite file {path} has neither [[cells]] nor [[scripts]]; add one")

    configs: list[RunConfig] = []
    seen: set[tuple] = set()
    for number, cell in enumerate(cells, start=1):
        for config in _expand_cell(cell, f"{path}, cell {number}", device, data_root):
            if config.key() in seen:
                raise ValueError(f"{path}, cell {number} repeats the run {describe(config)} "
                                 f"of an earlier cell; remove it from one of them")
            seen.add(config.key())
            configs.append(config)
    if datasets is not None:
        present = list(dict.fromkeys(c.dataset for c in configs))
        unknown = [d for d in datasets if d not in present]
        if unknown:
            raise ValueError(f"--datasets {','.join(unknown)} not in suite {path.stem}; "
                             f"its datasets are {', '.join(present) or 'none'}")
        configs = [c for c in configs if c.dataset in datasets]
    return Suite(path.stem, description, tuple(configs),
                 tuple(_parse_script(s, f"{path}, script {i}") for i, s in
                       enumerate(scripts, start=1)))


def _check_keys(table: dict[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(allowed)}")


def _table_list(spec: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    tables = spec.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"suite file {path}: {key} must be a list of tables, written "
                         f"[[{key}]]")
    return tables


def _expand_cell(cell: dict[str, Any], where: str, device: str,
                 data_root: str | None) -> list[RunConfig]:
    _check_keys(cell, [*_LIST_KEYS, *OVERRIDES], where)
    missing = [k for k in _REQUIRED_KEYS if k not in cell]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    lists = {key: _typed_list(cell, key, kind, where) for key, kind in _LIST_KEYS.items()
             if key in cell}
    _check_choices(lists["methods"], list(METHOD_LOSSES), "method", where)
    _check_choices(lists["samplers"], list(SAMPLERS), "sampler", where)
    _check_choices(lists["datasets"], known_datasets(), "dataset", where)
    if min(lists["seeds"]) < 0:
        raise ValueError(f"{where}: seeds must be ints >= 0, got {lists['seeds']}")
    pairs = _method_losses(lists["methods"], lists.get("losses"), where)
    overrides = {key: _override(cell[key], key, where) for key in OVERRIDES if key in cell}
    return [RunConfig(method=method, loss=loss, dataset=dataset, sampler=sampler, seed=seed,
                      device=device, data_root=data_root, **overrides)
            for dataset, (method, loss), seed, sampler in itertools.product(
                lists["datasets"], pairs, lists["seeds"], lists["samplers"])]


def _typed_list(cell: dict[str, Any], key: str, kind: type, where: str) -> list[Any]:
    values = cell[key]
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"{where}: {key} must be a non-empty list of "
                         f"{'strings' if kind is str else 'ints'}, got {values!r}")
    return values


def _check_choices(values: list[str], choices: list[str], what: str, where: str) -> None:
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise ValueError(f"{where}: unknown {what}(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(choices)}")


def _method_losses(methods: list[str], losses: list[str] | None,
                   where: str) -> list[tuple[str, str]]:
    if losses is None:
        return [(m, METHOD_LOSSES[m][0]) for m in methods]
    pairs = [(m, loss) for m in methods for loss in losses if loss in METHOD_LOSSES[m]]
    stray = [loss for loss in losses if all(loss not in METHOD_LOSSES[m] for m in methods)]
    lossless = [m for m in methods if all(p[0] != m for p in pairs)]
    if stray or lossless:
        takes = "; ".join(f"{m} takes {', '.join(METHOD_LOSSES[m])}" for m in METHOD_LOSSES)
        raise ValueError(f"{where}: losses {losses} do not fit methods {methods} "
                         f"({takes}); every loss needs a method and every method a loss")
    return pairs


def _override(value: Any, key: str, where: str) -> int | float | str:
    kind = OVERRIDES[key]
    if kind is str:
        _check_choices([value] if isinstance(value, str) else [repr(value)],
                       list(_STRING_CHOICES[key]), key, where)
        return value
    ok_type = (int, float) if kind is float else (int,)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise ValueError(f"{where}: {key} must be {'a number' if kind is float else 'an int'}"
                         f", got {value!r}")
    if not value > 0 or (key == "restart_prob" and value > 1):
        bound = "in (0, 1]" if key == "restart_prob" else "> 0"
        raise ValueError(f"{where}: {key} must be {bound}, got {value!r}")
    return kind(value)


def _parse_script(table: dict[str, Any], where: str) -> Script:
    _check_keys(table, _SCRIPT_KEYS, where)
    if not isinstance(table.get("path"), str):
        raise ValueError(f"{where}: path must be a string, the script's path relative to "
                         f"the repository root")
    args = table.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"{where}: args must be a list of strings, got {args!r}")
    return Script(REPO_ROOT / table["path"], tuple(args))


def describe(config: RunConfig) -> str:
    r"""A one-line name of a run, e.g. ``graphcl/infonce MUTAG proximity seed 0``."""
    return f"{config.method}/{config.loss} {config.dataset} {config.sampler} seed {config.seed}"


def checkpoint_path(out_dir: str | os.PathLike[str], config: RunConfig) -> Path:
    r"""The checkpoint file of a run: readable name plus a hash of its key."""
    digest = hashlib.sha1(repr(config.key()).encode()).hexdigest()[:10]
    name = f"{config.method}-{config.loss}-{config.dataset}-{config.sampler}-s{config.seed}"
    return Path(out_dir) / CHECKPOINTS_DIR / f"{name}-{digest}.pt"


def append_record(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    r"""Appends ``record`` as one JSON line and forces it to disk (flush + fsync).

    A last line cut short by a kill is closed with a newline first, so that the new
    record stays a line of its own.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = b""
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as tail:
            tail.seek(-1, os.SEEK_END)
            prefix = b"" if tail.read(1) == b"\n" else b"\n"
    with path.open("ab") as fh:
        fh.write(prefix + json.dumps(record).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


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
        suite (Suite): From :func:`load_suite`.
        out_dir (str or os.PathLike): Results folder.
        progress (bool): Show the suite's and each run's progress bars.
        quick (bool): Pass ``--quick`` to the suite's scripts.

    Returns:
        BenchResult: The new records, skipped and failed runs, script statuses.

    Raises:
        ValueError: Another bench is running on ``out_dir``.
    """
    out_dir = Path(out_dir)
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
        bar.set_postfix_str(describe(config))
        ckpt = checkpoint_path(out_dir, config)
        try:
            record = experiment.run(config, checkpoint=ckpt, progress=progress)
        except Exception as err:  # noqa: BLE001 -- one broken run must not end the suite
            message = "".join(traceback.format_exception_only(err)).strip()
            result.failed.append((config, message))
            tqdm.write(f"FAILED {describe(config)}: {message}", file=sys.stderr)
            continue
        append_record(out_dir / RESULTS_FILE, record)
        ckpt.unlink(missing_ok=True)
        result.records.append(record)
        tqdm.write(f"{describe(config)}: {record['accuracy_mean']:.2f} +- "
                   f"{record['accuracy_std']:.2f} (train {record['train_seconds']:.1f}s, "
                   f"eval {record['eval_seconds']:.1f}s)", file=sys.stderr)
    for script in suite.scripts:
        result.scripts.append((script, run_script(script, out_dir, quick=quick)))
    if result.records or result.skipped:
        result.report = write_report(out_dir)
    return result


def run_script(script: Script, out_dir: Path, *, quick: bool = False) -> str:
    r"""Runs one benchmark script from the repository root, its output echoed and
    saved to ``out_dir/<script stem>.log``.

    Returns:
        str: ``ok``, ``missing`` (no such file: skipped) or ``failed (exit N)``.
    """
    if not script.path.is_file():
        print(f"skipped {script.path}: not found", file=sys.stderr)
        return "missing"
    command = [sys.executable, str(script.path), *script.args, *(["--quick"] if quick else [])]
    print(f"$ {' '.join(command)}", file=sys.stderr)
    tic = time.perf_counter()
    with (out_dir / f"{script.path.stem}.log").open("w") as log, subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
    seconds = time.perf_counter() - tic
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    print(f"{script.path.name}: {status} in {seconds:.1f}s", file=sys.stderr)
    return status


__all__ = [
    "BenchResult",
    "Script",
    "Suite",
    "SUITES_DIR",
    "append_record",
    "checkpoint_path",
    "describe",
    "load_suite",
    "pending",
    "resolve_suite",
    "run_script",
    "run_suite",
    "suite_names",
]
