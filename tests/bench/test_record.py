"""The record's schema: old records read, new fields round-trip, and the one
"settings that differ from the defaults" agrees with the RunConfig it replaces."""
import gzip
import json
from pathlib import Path

import pytest
from synthetic import run_record

from graphsampler.bench import RunConfig
from graphsampler.bench.config import IDENTITY, PLACE
from graphsampler.bench.record import NORMS, Record, changed_settings, label, split_settings
from graphsampler.bench.results import read_results

STUDY = Path(__file__).resolve().parents[2] / "benchmarks/results/study/results.jsonl.gz"


def changed_by_rebuilding(config):
    """The report's former way: rebuild the run, rebuild its defaults, compare."""
    ours = RunConfig.from_record(config).settings()
    paper = RunConfig(**{k: ours[k] for k in IDENTITY}).settings()
    return {k: v for k, v in ours.items()
            if k not in IDENTITY and k not in PLACE and v != paper.get(k)}


def test_changed_settings_agree_with_rebuilding_every_study_record():
    with gzip.open(STUDY, "rt", encoding="utf-8") as fh:
        configs = [json.loads(line)["config"] for line in fh]
    assert len(configs) == 483
    changed = [changed_settings(c) for c in configs]
    assert changed == [changed_by_rebuilding(c) for c in configs]
    assert sum(bool(c) for c in changed) > 100  # the comparison is not all-empty
    assert {"twin_threshold": 0.999} in [{k: v for k, v in c.items() if k == "twin_threshold"}
                                         for c in changed]


def test_every_study_record_reads_and_round_trips():
    with gzip.open(STUDY, "rt", encoding="utf-8") as fh:
        stored = [json.loads(line) for line in fh]
    for old in stored:
        assert Record.from_dict(old).to_dict() == old  # nothing added, nothing lost


def test_an_old_record_reads():
    old = run_record("MUTAG", "proximity", 3, 87.0, num_candidates=1000, num_neighbors=100)
    record = Record.from_dict(old)
    assert record.num_candidates_resolved is None and record.norms() == {}
    assert record.changed == (("num_candidates", 1000), ("num_neighbors", 100))
    assert record.group_settings == () and record.variant_settings == record.changed
    assert record.last_stats()["coverage"] == pytest.approx(0.95)


def test_new_fields_round_trip_and_unknown_keys_are_kept():
    new = run_record("MUTAG", "proximity", 0, 88.0, epochs=5)
    new.update(num_graphs=188, fold_accuracies=[88.0] * 10, best_c=[1.0] * 10,
               num_candidates_resolved=6, num_neighbors_resolved=1, norm_default="clean",
               bn_collapse=False, bn_variance_ratio=0.4, some_later_key=[1, 2],
               accuracy_by_norm={n: {"mean": 86.0 + i, "std": 1.0, "fold_accuracies": [86.0],
                                     "best_c": [1.0]} for i, n in enumerate(NORMS)})
    record = Record.from_dict(new)
    assert record.to_dict() == new
    assert record.extra == {"some_later_key": [1, 2]}
    assert [(n, a.mean) for n, a in record.norms().items()] == [
        ("train", 86.0), ("clean", 87.0)]
    assert record.group_settings == (("epochs", 5),) and record.variant_settings == ()


def test_from_dict_refuses_what_is_not_a_record():
    with pytest.raises(TypeError, match="a record is a JSON object, got list"):
        Record.from_dict([1])
    with pytest.raises(KeyError, match="missing accuracy_mean, config"):
        Record.from_dict({"method": "graphcl", "loss": "infonce", "dataset": "MUTAG",
                          "sampler": "uniform", "seed": 0})


def test_split_and_label():
    group, variant = split_settings({"epochs": 5, "bank": "encoder", "num_candidates": 10})
    assert group == (("epochs", 5),)
    assert variant == (("bank", "encoder"), ("num_candidates", 10))
    assert label("proximity", variant) == "proximity bank=encoder num_candidates=10"


def test_reading_builds_no_run_config(tmp_path, monkeypatch):
    records = [run_record("MUTAG", s, 0, 80.0) for s in ("uniform", "proximity")]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    built = []
    original = RunConfig.__post_init__
    monkeypatch.setattr(RunConfig, "__post_init__",
                        lambda self: (built.append(1), original(self))[1])
    assert read_results(tmp_path / "results.jsonl") == records
    assert built == []
