import json

import pytest

from graphsampler.cli import main

FIELDS = {"method", "loss", "dataset", "sampler", "seed", "epochs", "accuracy_mean",
          "accuracy_std", "fold_accuracies", "train_seconds", "eval_seconds", "device",
          "commit", "versions", "config", "history"}


@pytest.mark.slow
@pytest.mark.parametrize("method,sampler", [("graphcl", "proximity"), ("mvgrl", "knn")])
def test_train_appends_one_record_per_seed(tu_mirror, tmp_path, monkeypatch, capsys, method,
                                           sampler):
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    out = tmp_path / "runs" / "r.jsonl"
    args = ["train", "--method", method, "--dataset", "MUTAG", "--sampler", sampler,
            "--epochs", "2", "--seeds", "0,1", "--device", "cpu", "--out", str(out), "--quiet"]
    precision = "bf16" if method == "mvgrl" else "fp32"
    if method == "mvgrl":
        args += ["--batch-size", "64", "--precision", "bf16"]
    assert main(args) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in records] == [0, 1]
    for r in records:
        assert FIELDS <= set(r) and r["method"] == method and r["sampler"] == sampler
        assert len(r["fold_accuracies"]) == 10 and 0 <= r["accuracy_mean"] <= 100
        assert len(r["history"]) == 2 and set(r["versions"]) >= {"torch", "torch_geometric"}
        assert r["config"]["precision"] == precision
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith(f"{method}/") and "over 2 seed(s)" in summary


@pytest.mark.parametrize("argv,message", [
    (["--seeds", "a,b"], "--seeds takes comma-separated ints"),
    (["--loss", "jsd"], "graphcl takes the loss infonce or dcl or hcl"),
    (["--method", "mvgrl", "--loss", "dcl"], "mvgrl takes the loss jsd"),
    (["--dataset", "NOPE"], "NOPE"),
    (["--device", "gpu7"], "unknown device 'gpu7'"),
    (["--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
])
def test_train_errors_exit_2_with_a_message(tmp_path, capsys, argv, message):
    base = ["train", "--dataset", "MUTAG", "--out", str(tmp_path / "r.jsonl"), "--epochs", "1"]
    args = base + argv
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
