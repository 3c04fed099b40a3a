import pytest
from tu_zips import TINY_STATS

from graphsampler.data import tu as tu_module
from graphsampler.data import tu_manifest


@pytest.fixture
def tiny_manifest(monkeypatch):
    """Makes load_tu accept the synthetic datasets TINY (no node labels) and LABELLED."""
    entries = {"TINY": TINY_STATS, "LABELLED": {**TINY_STATS, "node_labels": True}}
    monkeypatch.setattr(tu_module, "tu_manifest", lambda: {**tu_manifest(), **entries})
    monkeypatch.delenv(tu_module.MIRROR_ENV, raising=False)
    monkeypatch.delenv(tu_module.DATA_ENV, raising=False)
