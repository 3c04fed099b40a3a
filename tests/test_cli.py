"""The command line's runs: what `graphsampler train`, `bench`, `report` write and print
(the refusals of bad input are in test_cli_errors.py)."""
import json
import os

import pytest
import torch
from tu_zips import random_tu_zip

from graphsampler.cli import main

torch.set_num_threads(1)

FIELDS = {"method", "loss", "dataset", "sampler", "seed", "epochs", "accuracy_mean",
          "accuracy_std", "fold_accuracies", "train_seconds", "eval_seconds", "device",
          "commit", "versions", "config", "history"}


TRAIN = ["train", "--dataset", "MUTAG", "--epochs", "1"]


def _no_run(*args, **kwargs):
    raise AssertionError("a run started")


@pytest.mark.slow
@pytest.mark.parametrize("method,sampler", [("graphcl", "proximity"), ("mvgrl", "knn")])
def test_train_appends_one_record_per_seed(tu_mirror, tmp_path, monkeypatch, capsys, method,
                                           sampler):
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    out = tmp_path / "runs" / "r.jsonl"
    args = ["train", "--method", method, "--dataset", "MUTAG", "--sampler", sampler,
            "--epochs", "2", "--seeds", "0,1", "--device", "cpu", "--out", str(out), "--quiet"]
    precision = "bf16" if method == "mvgrl" else "fp32"
    if method == "mvgrl":  # a narrow MVGRL: the CLI path, not the width, is under test
        args += ["--batch-size", "64", "--precision", "bf16", "--hidden-channels", "32"]
    assert main(args) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in records] == [0, 1]
    for r in records:
        assert FIELDS <= set(r) and r["method"] == method and r["sampler"] == sampler
        assert len(r["fold_accuracies"]) == 10 and 0 <= r["accuracy_mean"] <= 100
        assert len(r["history"]) == 2 and set(r["versions"]) >= {"torch", "torch_geometric"}
        assert r["config"]["precision"] == precision
        assert r["config"]["lr"] == {"graphcl": 0.01, "mvgrl": 0.001}[method]
        assert ("augmentation" in r["config"]) == (method == "graphcl")
        assert ("restart_prob" in r["config"]) == (sampler == "proximity")
        assert "neg_cos_mean" in r["history"][-1]
    if method == "mvgrl":
        assert records[0]["config"]["hidden_channels"] == 32
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith(f"{method}/") and "over 2 seed(s)" in summary


def test_train_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: graphcl)", "(default: 20)", "(default: 128)",
                    "(default: the method's)", "(default: 0.2)", "(default: fp32)"):
        assert default in text


@pytest.mark.slow
def test_any_tu_dataset_in_the_mirror_trains_and_evaluates(tmp_path, monkeypatch, capsys):
    # PTC_MR is not one of the seven the manifest lists: nothing else is configured
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    random_tu_zip(mirror / "PTC_MR.zip", "PTC_MR")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(mirror))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "ptc.jsonl"
    assert main(["train", "--dataset", "PTC_MR", "--sampler", "proximity", "--epochs", "2",
                 "--batch-size", "8", "--num-candidates", "0.5", "--num-neighbors", "0.1",
                 "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["dataset"] == "PTC_MR" and record["num_graphs"] == 40
    assert len(record["fold_accuracies"]) == 10 and 0 <= record["accuracy_mean"] <= 100
    assert record["config"]["num_candidates"] == 0.5


def test_one_seed_prints_no_spread():
    from graphsampler.cli import summary_line
    record = {"method": "graphcl", "loss": "infonce", "dataset": "MUTAG", "sampler": "uniform"}
    assert summary_line([{**record, "accuracy_mean": 85.0}]) == \
        "graphcl/infonce MUTAG uniform: 85.00 over 1 seed"
    assert summary_line([{**record, "accuracy_mean": a} for a in (84.0, 86.0)]) == \
        "graphcl/infonce MUTAG uniform: 85.00 +- 1.41 over 2 seed(s)"


@pytest.mark.slow
def test_a_closed_pipe_ends_the_listing_quietly(tmp_path):
    import subprocess
    import sys
    # `graphsampler bench --dry-run | head -0`: the reader is gone before the first line
    proc = subprocess.Popen([sys.executable, "-m", "graphsampler", "bench", "--suite", "paper",
                             "--dry-run", "--out", str(tmp_path / "runs")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


def test_the_parser_builds_without_torch():
    import subprocess
    import sys
    code = ("import sys; from graphsampler.cli import build_parser, main; build_parser()\n"
            "try:\n    main(['train', '--dataset', 'MUTAG', '--out', 'x', '--epochs', '0'])\n"
            "except SystemExit as e:\n    print(e.code)\n"
            "print(sorted(m for m in ('torch', 'torch_geometric', 'numpy', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["2", "[]"]  # refused, and nothing heavy loaded
    assert "epochs must be >= 1, got 0" in out.stderr


@pytest.mark.slow
def test_save_model_writes_a_model_that_loads_in_one_line(tu_mirror, tmp_path, monkeypatch):
    from torch_geometric.data import Batch

    import graphsampler
    from graphsampler.bench import load_graphcl_dataset
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "MUTAG", "--epochs", "1", "--seeds", "0,1",
                 "--device", "cpu", "--quiet", "--out", "r.jsonl",
                 "--save-model", "models/m-{seed}.pt"]) == 0
    assert sorted(os.listdir(tmp_path / "models")) == ["m-0.pt", "m-1.pt"]
    method = graphsampler.load_model("models/m-1.pt")
    batch = Batch.from_data_list([load_graphcl_dataset("MUTAG")[i] for i in range(5)])
    assert method.embed(batch).shape == (5, 96) and not method.training
    other = graphsampler.load_model("models/m-0.pt")
    assert not torch.equal(other.embed(batch), method.embed(batch))  # each seed its own


@pytest.mark.slow
def test_node_attributes_train_on_the_attributes(tmp_path, monkeypatch):
    (tmp_path / "mirror").mkdir()
    random_tu_zip(tmp_path / "mirror" / "ATTR.zip", "ATTR", attributes=True)
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "ATTR", "--node-attributes", "--epochs", "1",
                 "--batch-size", "8", "--device", "cpu", "--quiet", "--out", "r.jsonl",
                 "--save-model", "m.pt"]) == 0
    record = json.loads((tmp_path / "r.jsonl").read_text())
    assert record["config"]["node_attributes"] is True
    import graphsampler
    # the two attributes (no node labels; with features, no constant one is added)
    assert graphsampler.load_model("m.pt").encoder.convs[0].nn[0].in_features == 2


def test_notices_are_one_clean_line_not_raw_warnings(tmp_path, capsys):
    from synthetic import run_record
    records = [run_record("MUTAG", s, seed, 80.0 + seed) for s in ("uniform", "proximity")
               for seed in (0, 1)]
    lines = [json.dumps(r) for r in records]
    lines.insert(2, '{"method": "graphcl", "trunc')
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["report", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    notices = [line for line in err if "skipped a line" in line]
    assert len(notices) == 1 and notices[0].startswith(
        f"graphsampler: warning: {tmp_path / 'results.jsonl'}:3: skipped a line that is "
        "not a complete run record (JSONDecodeError: ")
    assert not any("Warning" in line or "warnings.warn" in line for line in err), err


def test_train_into_an_idle_bench_folder_holds_its_lock_while_it_runs(tmp_path, monkeypatch,
                                                                      capsys):
    fcntl = pytest.importorskip("fcntl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / ".bench.lock").write_text("")  # a bench ran here, and ended
    seen = []

    def run(config, **kwargs):  # a bench starting now would find the lock taken
        with open(tmp_path / "runs" / ".bench.lock", "a") as lock:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        seen.append(config.seed)
        raise ValueError("stopped after the check")
    monkeypatch.setattr("graphsampler.bench.run", run)
    with pytest.raises(SystemExit):
        main(TRAIN + ["--out", "runs/results.jsonl"])
    assert seen == [0] and "stopped after the check" in capsys.readouterr().err


def test_a_count_alone_is_accepted_in_a_suite_and_on_the_command_line(tmp_path, monkeypatch,
                                                                       capsys):
    # M = 100 with the default k = 0.003 N: against a stand-in N of 2^30, k was 3.2M
    # and the run was refused; MUTAG's real N gives k = 1.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)
    (tmp_path / "s.toml").write_text("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\n"
                                     "samplers=['proximity']\nseeds=[0]\nnum_candidates=100\n")
    assert main(["bench", "--suite", "s.toml", "--dry-run", "--out", "o"]) == 0
    assert "suite s: 1 run(s), 0 already in o/results.jsonl, 1 to run" in capsys.readouterr().out
    monkeypatch.setattr("graphsampler.bench.run", _no_run)
    with pytest.raises(AssertionError, match="a run started"):  # accepted: it would run
        main(TRAIN + ["--sampler", "proximity", "--num-candidates", "100", "--out", "r.jsonl"])
