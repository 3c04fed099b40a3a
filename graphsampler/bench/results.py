r"""Results files: one JSON record per run, one line each (``results.jsonl``), appended
so that a kill loses at most the line being written."""
from __future__ import annotations

import gzip
import json
import os
import warnings
from pathlib import Path
from typing import Any

from graphsampler.bench.config import RunConfig
from graphsampler.bench.record import Record

RESULTS_FILE = "results.jsonl"


def append_record(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    r"""Appends ``record`` as one JSON line and forces it to disk (flush + fsync).

    A last line cut short by a kill is closed with a newline first, so that the new
    record stays a line of its own.

    Example:
        .. code-block:: python

            append_record("runs/quick/results.jsonl", record)
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


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    r"""The records of a ``results.jsonl``, skipping (with a warning) every line that is
    not a complete record (:meth:`~graphsampler.bench.record.Record.from_dict`), such as
    a last line cut short by a kill. Reading builds no run configuration.

    Args:
        path (str or os.PathLike): The JSONL file, or its gzip (a name ending in
            ``.gz``: how a large committed results file is kept).

    Returns:
        list[dict]: The records, in file order.

    Example:
        .. code-block:: python

            records = read_results("runs/quick/results.jsonl")
    """
    records = []
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                Record.from_dict(record)
            except (ValueError, TypeError, KeyError) as err:
                warnings.warn(f"{path}:{number}: skipped a line that is not a complete run "
                              f"record ({type(err).__name__}: {err}); a run killed while "
                              f"writing leaves one, and the next bench redoes that run",
                              RuntimeWarning, stacklevel=2)
                continue
            records.append(record)
    return records


def record_key(record: dict[str, Any]) -> tuple:
    r"""The :meth:`RunConfig.key` of a record.

    Raises:
        KeyError: A key of a record is missing. ValueError, TypeError: not a record.
    """
    return RunConfig.from_record(Record.from_dict(record).config).key()


__all__ = ["RESULTS_FILE", "append_record", "read_results", "record_key"]
