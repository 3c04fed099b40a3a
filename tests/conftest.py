import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tu_mirror(monkeypatch) -> Path:
    """The TU mirror folder (GRAPHSAMPLER_TU_MIRROR, else ../shared/datasets/tu)."""
    mirror = Path(os.environ.get("GRAPHSAMPLER_TU_MIRROR", REPO.parent / "shared/datasets/tu"))
    if not (mirror / "MUTAG.zip").exists():
        pytest.skip("no TU mirror with MUTAG.zip: set GRAPHSAMPLER_TU_MIRROR")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(mirror))
    return mirror
