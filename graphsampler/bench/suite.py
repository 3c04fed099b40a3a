r"""Benchmark suites: TOML files of experiment cells (and scripts).

The suites ``quick``, ``paper``, ``cpu``, ``speed``, ``mvgrl``, ``mvgrl_bf16``,
``ablation`` and ``confirm`` ship with the package (``graphsampler/bench/suites/``);
any other ``.toml`` file works too. Its schema::

    description = "one line on what the suite is for"      # optional

    [[cells]]                     # any number; each expands to the product below
    methods = ["graphcl", "mvgrl"]
    losses = ["infonce", "jsd"]   # optional: each method's first loss; a loss goes
                                  # with the methods that take it
    datasets = ["MUTAG", "IMDB-BINARY"]   # any TU dataset name
    samplers = ["uniform", "proximity"]
    seeds = [0, 1]
    epochs = 20                   # optional: any other RunConfig setting, by its
                                  # field name (batch_size, lr, restart_prob, ...)

    [[scripts]]                   # any number; run as subprocesses after the cells
    path = "benchmarks/sampler_speed.py"   # relative to the folder bench runs in
    args = ["--repeats", "3"]              # optional

A cell expands dataset by dataset (in the listed order), then method and loss, then
seed, then sampler, so that an interrupted suite has finished whole sampler
comparisons of the first datasets. Every run is checked as
:class:`~graphsampler.bench.RunConfig` checks it, by building its method and sampler,
so a suite accepts exactly the values the runs accept.

Example:
    >>> suite = load_suite("quick", datasets=["MUTAG"])
    >>> len(suite.configs)
    4
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from graphsampler.bench.config import IDENTITY, PLACE, RunConfig

_TOP_KEYS = ("description", "cells", "scripts")
_LIST_KEYS = {"methods": str, "losses": str, "datasets": str, "samplers": str, "seeds": int}
_REQUIRED_KEYS = ("methods", "datasets", "samplers", "seeds")
#: The settings a cell may give, by RunConfig field name.
OVERRIDES = tuple(f.name for f in dataclasses.fields(RunConfig)
                  if f.name not in IDENTITY and f.name not in PLACE)
_SCRIPT_KEYS = ("path", "args")


@dataclass(frozen=True)
class Script:
    r"""A benchmark script of a suite.

    Attributes:
        path: The script file, relative to the folder the bench runs in.
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


def _shipped() -> Any:
    return resources.files("graphsampler.bench").joinpath("suites")


def suite_names() -> list[str]:
    r"""The suites shipped with the package (file stems, sorted).

    Example:
        >>> "quick" in suite_names()
        True
    """
    return sorted(p.name[:-5] for p in _shipped().iterdir() if p.name.endswith(".toml"))


def read_suite_text(suite: str | os.PathLike[str]) -> tuple[str, str]:
    r"""The name and TOML text of a shipped suite's name or of a ``.toml`` file's path.

    Example:
        >>> read_suite_text("quick")[0]
        'quick'
    """
    text = os.fspath(suite)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"suite file {path} not found; give an existing .toml file or "
                             f"one of the suites {', '.join(suite_names())}")
        return path.stem, path.read_text("utf-8")
    if text not in suite_names():
        raise ValueError(f"unknown suite {text!r}; choose one of {', '.join(suite_names())} "
                         f"or give a path to a .toml file")
    return text, _shipped().joinpath(f"{text}.toml").read_text("utf-8")


def load_suite(suite: str | os.PathLike[str], *, datasets: Sequence[str] | None = None,
               device: str = "auto", data_root: str | None = None) -> Suite:
    r"""Reads a suite and expands its cells into run configurations.

    Args:
        suite (str or os.PathLike): A suite name or a path to a ``.toml`` file.
        datasets (Sequence[str], optional): Keep only the runs on these datasets (each
            must occur in the suite).
        device (str): Device of every run (``auto``, ``cpu``, ``cuda``...).
        data_root (str, optional): Dataset folder of every run.

    Returns:
        Suite: The runs in order and the scripts.

    Raises:
        ValueError: a one-line message naming the suite, the cell and the key at fault.
    """
    name, text = read_suite_text(suite)
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"suite {name} is not valid TOML: {err}") from None
    _check_keys(spec, _TOP_KEYS, f"suite {name}")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"suite {name}: description must be a string")
    cells = _table_list(spec, "cells", name)
    scripts = _table_list(spec, "scripts", name)
    if not cells and not scripts:
        raise ValueError(f"suite {name} has neither [[cells]] nor [[scripts]]; add one")
    configs: list[RunConfig] = []
    seen: set[tuple] = set()
    for number, cell in enumerate(cells, start=1):
        for config in _expand_cell(cell, f"suite {name}, cell {number}", device, data_root):
            if config.key() in seen:
                raise ValueError(f"suite {name}, cell {number} repeats the run "
                                 f"{config.describe()} of an earlier cell; remove it from "
                                 f"one of them")
            seen.add(config.key())
            configs.append(config)
    if datasets is not None:
        present = list(dict.fromkeys(c.dataset for c in configs))
        unknown = [d for d in datasets if d not in present]
        if unknown:
            raise ValueError(f"--datasets {','.join(unknown)} not in suite {name}; "
                             f"its datasets are {', '.join(present) or 'none'}")
        configs = [c for c in configs if c.dataset in datasets]
    return Suite(name, description, tuple(configs),
                 tuple(_parse_script(s, f"suite {name}, script {i}") for i, s in
                       enumerate(scripts, start=1)))


def _check_keys(table: dict[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(allowed)}")


def _table_list(spec: dict[str, Any], key: str, name: str) -> list[dict[str, Any]]:
    tables = spec.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"suite {name}: {key} must be a list of tables, written [[{key}]]")
    return tables


def _expand_cell(cell: dict[str, Any], where: str, device: str,
                 data_root: str | None) -> list[RunConfig]:
    from graphsampler.bench.registry import METHODS
    _check_keys(cell, [*_LIST_KEYS, *OVERRIDES], where)
    missing = [k for k in _REQUIRED_KEYS if k not in cell]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    lists = {key: _typed_list(cell, key, kind, where) for key, kind in _LIST_KEYS.items()
             if key in cell}
    unknown = [m for m in lists["methods"] if m not in METHODS]
    if unknown:
        raise ValueError(f"{where}: unknown method(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(METHODS)}")
    pairs = _method_losses(lists["methods"], lists.get("losses"), where)
    overrides = {key: cell[key] for key in OVERRIDES if key in cell}
    try:
        return [RunConfig(method=method, loss=loss, dataset=dataset, sampler=sampler,
                          seed=seed, device=device, data_root=data_root, **overrides)
                for dataset, (method, loss), seed, sampler in itertools.product(
                    lists["datasets"], pairs, lists["seeds"], lists["samplers"])]
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def _typed_list(cell: dict[str, Any], key: str, kind: type, where: str) -> list[Any]:
    values = cell[key]
    if (not isinstance(values, list) or not values
            or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"{where}: {key} must be a non-empty list of "
                         f"{'strings' if kind is str else 'ints'}, got {values!r}")
    return values


def _method_losses(methods: list[str], losses: list[str] | None,
                   where: str) -> list[tuple[str, str]]:
    from graphsampler.bench.registry import METHODS
    if losses is None:
        return [(m, METHODS[m].losses[0]) for m in methods]
    pairs = [(m, loss) for m in methods for loss in losses if loss in METHODS[m].losses]
    stray = [loss for loss in losses if all(loss not in METHODS[m].losses for m in methods)]
    lossless = [m for m in methods if all(p[0] != m for p in pairs)]
    if stray or lossless:
        takes = "; ".join(f"{m} takes {', '.join(METHODS[m].losses)}" for m in METHODS)
        raise ValueError(f"{where}: losses {losses} do not fit methods {methods} "
                         f"({takes}); every loss needs a method and every method a loss")
    return pairs


def _parse_script(table: dict[str, Any], where: str) -> Script:
    _check_keys(table, _SCRIPT_KEYS, where)
    if not isinstance(table.get("path"), str):
        raise ValueError(f"{where}: path must be a string, the script's path relative to "
                         f"the folder the bench runs in")
    args = table.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"{where}: args must be a list of strings, got {args!r}")
    return Script(Path(table["path"]), tuple(args))


__all__ = ["OVERRIDES", "Script", "Suite", "load_suite", "read_suite_text", "suite_names"]
