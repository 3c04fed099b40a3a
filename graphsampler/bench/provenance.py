r"""Where a result came from: the code's commit, the device and the library versions."""
from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path

import torch
import torch_geometric


@functools.cache
def git_commit() -> str:
    r"""The checkout's commit (with ``-dirty`` for uncommitted changes), or ``unknown``
    (an installed package outside a checkout).

    Read once per process (first call; :func:`graphsampler.bench.run` calls it before
    training), so that a long suite keeps recording the code it imported even if the
    checkout moves on.

    Example:
        .. code-block:: python

            git_commit()[:7]  # '6ed3b17'
    """
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, check=True).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_name(device: torch.device | str = "cpu") -> str:
    r"""A human-readable name of a device: the GPU's name, or the CPU model and threads.

    Example:
        .. code-block:: python

            device_name("cpu")  # 'cpu (AMD EPYC 7B13, 1 threads)'
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu ({model}, {torch.get_num_threads()} threads)"


def versions() -> dict[str, str]:
    r"""The versions of torch, PyG and Python that a record names."""
    return {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
            "python": platform.python_version()}


__all__ = ["device_name", "git_commit", "versions"]
