import os
from pathlib import Path

import pytest
import torch
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]

# Child processes the tests start (CLI runs, torchrun) inherit one thread too.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# A relative mirror (the README's `export GRAPHSAMPLER_TU_MIRROR=../shared/datasets/tu`)
# is relative to the folder pytest started in: resolved once here, so that the tests that
# chdir, and the processes they start in other folders, read the same mirror.
if os.environ.get("GRAPHSAMPLER_TU_MIRROR"):
    os.environ["GRAPHSAMPLER_TU_MIRROR"] = os.path.abspath(os.environ["GRAPHSAMPLER_TU_MIRROR"])


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Every test on one torch thread and one BLAS thread: the tests' tensors are small,
    and two threads spend more time contending than computing (tests/test_train.py:
    34 s on two threads, 3 s on one). A test that needs more threads sets them itself."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads a real dataset (through the ``tu_mirror`` fixture) is slow; a
    test marked ``cuda`` is skipped where there is no CUDA device."""
    no_cuda = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "tu_mirror" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("cuda") and not torch.cuda.is_available():
            item.add_marker(no_cuda)


@pytest.fixture
def tu_mirror(monkeypatch) -> Path:
    """The TU mirror folder (GRAPHSAMPLER_TU_MIRROR, else ../shared/datasets/tu)."""
    mirror = Path(os.environ.get("GRAPHSAMPLER_TU_MIRROR", REPO.parent / "shared/datasets/tu"))
    mirror = mirror.absolute()
    if not (mirror / "MUTAG.zip").exists():
        pytest.skip("no TU mirror with MUTAG.zip: set GRAPHSAMPLER_TU_MIRROR")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(mirror))
    return mirror
