r"""What every benchmark script shares: where its results go, the provenance it records,
the memory it reads (also after every training epoch, as a callback), and the child
process it runs a measurement in.

Not part of the package: a benchmark measures the package from outside, so these
helpers live beside the scripts, which import them as ``from _helpers import ...``
(a script's own folder is on ``sys.path`` when it runs).
"""
from __future__ import annotations

import ctypes
import gc
import json
import multiprocessing as mp
import os
import queue as queue_module
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from graphsampler.bench.provenance import device_name, git_commit
from graphsampler.callback import Callback

MIB = 2**20
RESULTS = Path(__file__).parent / "results"


def write_results(out: str | Path, stem: str, result: dict[str, Any],
                  lines: list[str]) -> None:
    r"""Writes ``result`` as ``out/stem.json`` first, then ``lines`` as ``out/stem.md``,
    creating ``out``, and prints the lines.

    Example:
        >>> write_results(RESULTS, "epoch_speed_1t", {"rows": []}, ["# table", ""])
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def provenance(device: torch.device | str = "cpu") -> dict[str, Any]:
    r"""The record every result starts with: device, torch threads, commit, torch
    version, and the machine's 1-minute load average (the machine may be shared).

    Example:
        >>> provenance("cpu")["threads"]
        1
    """
    return {"device": device_name(device), "threads": torch.get_num_threads(),
            "commit": git_commit(), "torch": torch.__version__,
            "load_average_1min": os.getloadavg()[0]}


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def rss_bytes() -> int:
    r"""This process's resident memory (``VmRSS``), in bytes. Linux only."""
    return _status_bytes("VmRSS:")


def peak_bytes() -> int:
    r"""This process's peak resident memory (``VmHWM``) since it started or since
    :func:`reset_peak`, in bytes. Linux only."""
    return _status_bytes("VmHWM:")


def reset_peak() -> bool:
    r"""Resets ``VmHWM`` to the current RSS (Linux >= 4.0); :obj:`False` where the
    kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class EpochMemory(Callback):
    r"""A training callback that adds this process's RSS after every epoch to the
    epoch's history record, outside the epoch's timed seconds: ``rss_mib``, and with
    ``trim`` the RSS after :func:`gc.collect` (before the first reading) and glibc's
    ``malloc_trim(0)`` (``rss_trimmed_mib``: memory in use, free pages returned).

    Args:
        trim (bool, optional): Also read the trimmed RSS. (default: :obj:`False`)
        reset_peak_after (int, optional): Reset the peak (:func:`reset_peak`) after
            this epoch, so that :func:`peak_bytes` covers the epochs after it;
            :attr:`peak_reset` says whether the kernel allowed it. (default: never)

    Example:
        >>> memory = EpochMemory(reset_peak_after=0)   # epoch 0 is a warm-up
        >>> result = train(model, ds, sampler, epochs=4, callbacks=[memory])
        >>> [h["rss_mib"] for h in result.history], memory.peak_reset
    """

    def __init__(self, trim: bool = False, reset_peak_after: int | None = None) -> None:
        self.trim = trim
        self.reset_peak_after = reset_peak_after
        self.peak_reset = False

    def on_epoch_end(self, epoch: int, record: dict[str, Any]) -> None:
        if self.trim:
            gc.collect()
        record["rss_mib"] = rss_bytes() / MIB
        if self.trim:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            record["rss_trimmed_mib"] = rss_bytes() / MIB
        if epoch == self.reset_peak_after:
            self.peak_reset = reset_peak()


def _child_main(target: Callable[..., Any], args: tuple, results: mp.Queue) -> None:
    results.put(target(*args))


def run_in_child(target: Callable[..., Any], *args: Any, poll_seconds: float = 5.0) -> Any:
    r"""Runs ``target(*args)`` in a fresh (spawned) process and returns its result, so
    that a memory measurement starts from a clean process and the parent's allocations
    do not count. ``target`` must be a module-level function and its result picklable.

    Raises :class:`RuntimeError` if the child dies without a result (say, killed for
    memory) or exits non-zero.

    Example:
        >>> peak = run_in_child(measure_peak, "MUTAG")  # measure_peak(name) -> dict
    """
    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child_main, args=(target, args, results))
    proc.start()
    out, received = None, False
    while not received:
        try:
            out, received = results.get(timeout=poll_seconds), True
        except queue_module.Empty:
            if not proc.is_alive():
                break
    proc.join()
    if not received or proc.exitcode != 0:
        raise RuntimeError(f"the child process running {target.__name__} failed "
                           f"(exit {proc.exitcode})")
    return out
