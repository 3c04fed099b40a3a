import json
import operator
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the scripts import their helpers this way

import _helpers  # noqa: E402


def test_write_results_writes_json_then_table(tmp_path, capsys):
    result = {"rows": [{"dataset": "MUTAG", "seconds": 0.5}], "commit": "abc"}
    _helpers.write_results(tmp_path / "new", "speed", result, ["# title", "", "| a |"])
    assert json.loads((tmp_path / "new" / "speed.json").read_text()) == result
    assert (tmp_path / "new" / "speed.md").read_text() == "# title\n\n| a |\n"
    assert capsys.readouterr().out == "# title\n\n| a |\n"


def test_provenance_names_device_threads_commit_and_load():
    record = _helpers.provenance("cpu")
    assert record["threads"] == torch.get_num_threads() == 1  # conftest pins one thread
    assert record["device"].startswith("cpu") and record["torch"] == torch.__version__
    assert record["load_average_1min"] == pytest.approx(os.getloadavg()[0], abs=5.0)
    assert isinstance(record["commit"], str) and record["commit"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only")
def test_memory_readers_see_an_allocation():
    before = _helpers.rss_bytes()
    block = np.ones(64 * _helpers.MIB, dtype=np.uint8)  # 64 MiB, touched
    grown = _helpers.rss_bytes() - before
    assert 60 * _helpers.MIB < grown < 80 * _helpers.MIB
    assert _helpers.peak_bytes() >= _helpers.rss_bytes()
    del block
    if _helpers.reset_peak():
        assert _helpers.peak_bytes() <= _helpers.rss_bytes() + 8 * _helpers.MIB


@pytest.mark.slow  # three fresh interpreters that import torch: seconds
def test_run_in_child_returns_the_result_or_says_it_failed():
    child_pid = _helpers.run_in_child(os.getpid)
    assert isinstance(child_pid, int) and child_pid != os.getpid()
    assert _helpers.run_in_child(operator.add, 2, 3) == 5
    with pytest.raises(RuntimeError, match=r"^the child process running truediv failed "
                                           r"\(exit 1\)$"):
        _helpers.run_in_child(operator.truediv, 1, 0, poll_seconds=0.5)


def test_every_gin_variant_of_epoch_speed_computes_ours():
    import epoch_speed

    gen = torch.Generator().manual_seed(0)
    graphs = []
    for n in (4, 7, 5):
        src = torch.randint(0, n, (2 * n,), generator=gen)
        dst = torch.randint(0, n, (2 * n,), generator=gen)
        # Directed, self-loops kept; repeated edges dropped: a sparse adj_t built from
        # an edge list without weights is binary, as a TU graph's adjacency is.
        graphs.append(Data(x=torch.randn(n, 3, generator=gen),
                           edge_index=torch.unique(torch.stack([src, dst]), dim=1)))
    seconds = epoch_speed.message_passing_seconds([Batch.from_data_list(graphs)], reps=1)
    assert set(seconds) == {"ours", "pyg", "pyg_sparse"}  # equality asserted inside
    assert all(value >= 0 for value in seconds.values())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only")
def test_epoch_memory_adds_the_rss_to_each_epoch_record():
    memory = _helpers.EpochMemory(trim=True, reset_peak_after=1)
    records = [{"epoch": epoch} for epoch in range(3)]
    for epoch, record in enumerate(records):
        memory.on_epoch_end(epoch, record)
        if epoch == 0:
            assert not memory.peak_reset  # only after epoch 1
    assert memory.peak_reset == _helpers.reset_peak()
    now = _helpers.rss_bytes() / _helpers.MIB
    for record in records:
        assert set(record) == {"epoch", "rss_mib", "rss_trimmed_mib"}
        assert abs(record["rss_mib"] - now) < 64
        assert record["rss_trimmed_mib"] <= record["rss_mib"] + 1
    plain = {}
    _helpers.EpochMemory().on_epoch_end(0, plain)
    assert set(plain) == {"rss_mib"}


@pytest.mark.slow  # trains a small MVGRL for four epochs: seconds
def test_mvgrl_epoch_measures_the_floor_the_epochs_and_the_profile():
    import mvgrl_epoch
    from synthetic import tiny_graphs

    from graphsampler.augment.diffusion import ppr_diffusion
    from graphsampler.data import IndexedDataset

    graphs = tiny_graphs(130)  # two batches of the benchmark's 128
    for g in graphs:
        g.diff_edge_index, g.diff_edge_weight = ppr_diffusion(g.edge_index, g.num_nodes, k=4)
    rows = [mvgrl_epoch.epoch_against_floor(IndexedDataset(graphs), "tiny", epochs=2,
                                            repeats=3, precision=precision,
                                            hidden_channels=16, num_layers=2)
            for precision in ("fp32", "bf16")]
    for row, precision in zip(rows, ("fp32", "bf16")):
        assert row["precision"] == precision
        assert row["batches"] == 2 and row["nodes"] == sum(g.num_nodes for g in graphs)
        assert row["gflop"] > 0 and row["floor_seconds"] > 0 and len(row["epoch_seconds"]) == 2
        assert row["floor_seconds"] == pytest.approx(row["gflop"] / row["gemm_gflops"])
        assert row["ratio"] == pytest.approx(row["epoch_seconds_mean"] / row["floor_seconds"])
        fractions = row["profile_fractions"]
        assert sum(fractions.values()) == pytest.approx(1.0)
        assert {"dense products", "neighbour sums", "PReLU", "Adam", "collation"} <= set(fractions)
    assert rows[0]["gflop"] == rows[1]["gflop"]  # the same epoch, counted once per precision
    lines = mvgrl_epoch.markdown({"device": "cpu (x)", "commit": "c0", "threads": 1,
                                  "repeats": 3, "epochs": 2, "datasets": rows})
    assert lines[0].startswith("# MVGRL epoch against its FLOP floor (cpu (x)")
    assert any(line.startswith("| tiny (") and "| fp32 |" in line for line in lines)
    assert any(line.startswith("| tiny (") and "| bf16 |" in line for line in lines)


def test_device_check_dry_run_lists_every_part_within_eight_minutes(tmp_path):
    import device_check

    assert device_check.main([str(tmp_path), "--dry-run"]) == 0
    plan = json.loads((tmp_path / "device_check.json").read_text())
    parts = {row["part"]: row for row in plan["parts"]}
    assert list(parts) == ["cuda_tests", "sampler_1m", "mvgrl_bf16", "quick_suite",
                           "svm_linear"]
    assert sum(row["budget_seconds"] for row in parts.values()) <= 8 * 60
    assert plan["dry_run"] and plan["device"].startswith("cpu") and plan["commit"]
    # the two parts that need no dataset ran tiny, on CPU, each with its own files
    for name in ("sampler_1m", "svm_linear"):
        assert parts[name]["status"] == "ran tiny on cpu"
        result = json.loads((tmp_path / f"{name}.json").read_text())
        assert result["device"].startswith("cpu") and result["commit"] == plan["commit"]
        assert (tmp_path / f"{name}.md").read_text().startswith(
            f"# device check: {name} (cpu")
    sampler = json.loads((tmp_path / "sampler_1m.json").read_text())
    assert sampler["build_over_floor"] == pytest.approx(
        sampler["build_seconds"] / sampler["floor_seconds"])
    assert json.loads((tmp_path / "svm_linear.json").read_text())["same_folds"]
    table = (tmp_path / "device_check.md").read_text()
    assert all(f"| {name} |" in table for name in parts)


def test_device_check_without_cuda_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    import device_check

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_check.main([str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA device" in err and "--dry-run" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # one child interpreter, killed after a second
def test_device_check_kills_a_part_over_its_budget(tmp_path):
    import device_check

    row = device_check.run_isolated("cuda_tests", tmp_path, "cpu", budget=1.0)
    assert row["status"] == "timeout after 1 s" and row["seconds"] < 10
    assert not (tmp_path / "cuda_tests.json").exists()


def test_cli_startup_times_each_command_and_refuses_a_failing_one():
    import cli_startup
    seconds = cli_startup.time_command(["-c", "pass"])
    assert 0 < seconds < 30
    assert cli_startup.time_command(cli_startup.COMMANDS["refused: train --epochs 0"]) > 0
    with pytest.raises(RuntimeError, match="failed"):
        cli_startup.time_command(["-c", "raise SystemExit(3)"])
