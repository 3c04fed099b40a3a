r"""The command line's checks before any work: each one ends a bad input in one line
(a ``ValueError``) before a run starts, or warns once.

:func:`check_before_work` checks the datasets of the runs, :func:`check_output` and
:func:`model_paths` the files a run will write, :func:`bench_lock` that no bench appends
to the same results file; :func:`warn_slow_bf16` warns of bfloat16 on a CPU without it.
Like the parser, importing this module loads neither torch nor PyG.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from graphsampler.bench.config import RunConfig


def check_before_work(configs: Sequence[RunConfig]) -> None:
    r"""What can be known before any run: each dataset's name and source (a typo in a
    suite is found once, not by each of its runs), and the runs against the dataset
    sizes of the manifest (a count of N, a last batch of one graph)."""
    from graphsampler.data.manifest import tu_manifest
    from graphsampler.data.tu import check_tu_source
    for dataset, root in dict.fromkeys((c.dataset, c.data_root) for c in configs):
        check_tu_source(dataset, root)
    sizes = {name: row["graphs"] for name, row in tu_manifest().items()}
    for config in configs:
        if config.dataset in sizes:
            config.check_size(sizes[config.dataset])


def fetch_unlisted(configs: Sequence[RunConfig]) -> None:
    r"""Without a mirror, loads each dataset that is neither in the manifest nor on disk
    once before the runs: a name the TU server lacks (a typo in a suite) ends the bench
    in one line before any run, not each of its runs."""
    from graphsampler.data.manifest import tu_manifest
    from graphsampler.data.mirror import resolve_mirror
    from graphsampler.data.tu import has_raw_files, load_tu
    if resolve_mirror(None) is not None:  # check_tu_source found every zip already
        return
    for dataset, root in dict.fromkeys((c.dataset, c.data_root) for c in configs):
        if dataset not in tu_manifest() and not has_raw_files(dataset, root):
            load_tu(dataset, root)


def warn_slow_bf16(configs: Sequence[RunConfig], device: Any) -> None:
    r"""Warns on stderr, once, when a bfloat16 run is to train on a CPU without bfloat16
    instructions, where it is far slower than float32."""
    from graphsampler.precision import cpu_has_bf16
    if device.type == "cpu" and any(c.precision == "bf16" for c in configs) \
            and not cpu_has_bf16():
        print("graphsampler: warning: --precision bf16 on a CPU without bfloat16 "
              "instructions (avx512_bf16, amx_bf16) trains far slower than fp32; "
              "keep fp32 here", file=sys.stderr)


def check_output(path: Path, *, folder: bool) -> Path:
    r"""Checks, before any work, that ``path`` can be created or written as a file
    (``folder=False``) or a folder, with a one-line ``ValueError`` otherwise."""
    flag = f"--out {path}"
    if path.exists() and path.is_dir() != folder:
        raise ValueError(f"{flag} is a {'file' if folder else 'folder'}; give "
                         + ("a folder" if folder else "a file, e.g. " + str(path / "r.jsonl")))
    parent = path if folder else path.parent
    existing = next(p for p in (parent, *parent.parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"{flag}: {existing} is a file, so nothing can be written under it")
    target = path if path.exists() else existing
    if not os.access(target, os.W_OK):
        raise ValueError(f"{flag}: {target} is not writable")
    created = [p for p in (parent, *parent.parents) if not p.exists()][::-1]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if folder:
            with tempfile.TemporaryFile(dir=parent):
                pass
        else:
            existed = path.exists()
            with path.open("a"):
                pass
            if not existed:
                path.unlink()
    except OSError as err:
        raise ValueError(f"{flag}: cannot write there ({err.strerror})") from None
    finally:
        for p in reversed(created):  # deepest first: leave nothing behind
            try:
                p.rmdir()
            except OSError:
                break
    return path


def model_paths(pattern: str | None, seeds: Sequence[int]) -> dict[int, Path] | None:
    r"""The ``--save-model`` file of each seed, each checked writable before work."""
    if pattern is None:
        return None
    if len(seeds) > 1 and "{seed}" not in pattern:
        raise ValueError(f"--save-model {pattern}: {len(seeds)} seeds would write one file; "
                         f"put {{seed}} in the path, e.g. model-{{seed}}.pt")
    try:
        paths = {seed: Path(pattern.replace("{seed}", str(seed))) for seed in seeds}
    except ValueError as err:
        raise ValueError(f"--save-model {pattern}: {err}") from None
    for path in paths.values():
        try:
            check_output(path, folder=False)
        except ValueError as err:
            raise ValueError(str(err).replace(f"--out {path}", f"--save-model {path}", 1)) \
                from None
    return paths


@contextlib.contextmanager
def bench_lock(out: Path) -> Iterator[None]:
    r"""Holds the lock of the bench results folder ``out`` is in, if it is one, so that
    ``train --out`` never appends to a results file a running bench appends to."""
    from graphsampler.bench.queue import LOCK_FILE, _exclusive
    if os.environ.get("RANK", "0") != "0" or not (out.parent / LOCK_FILE).is_file():
        # under torchrun only rank 0 writes the record, and only it takes the lock
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_exclusive(out.parent))
        except ValueError:
            raise ValueError(f"--out {out}: a bench is running on {out.parent} (it holds "
                             f"{out.parent / LOCK_FILE}); wait for it or give --out "
                             f"another file") from None
        yield
