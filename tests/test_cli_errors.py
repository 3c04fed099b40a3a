"""The command line's refusals: every bad input ends in one line on stderr, exit status 2,
before any work starts (a record that was computed is never lost)."""
import json
import os

import pytest
import torch
from tu_zips import random_tu_zip

from graphsampler.cli import main

torch.set_num_threads(1)

TRAIN = ["train", "--dataset", "MUTAG", "--epochs", "1"]
BAD_SUITES = {
    "typo.toml": "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\n"
                 "seeds=[0]\nepoch=3\n",
    "alpha.toml": "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\n"
                  "seeds=[0]\nrestart_prob=1\n",
    "method.toml": "[[cells]]\nmethods=['grapcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\n"
                   "seeds=[0]\n",
    "broken.toml": "[[cells]\n",
    "dataset.toml": "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG', 'Mutag']\n"
                    "samplers=['uniform', 'proximity']\nseeds=[0, 1]\n",
    "lastone.toml": "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\n"
                    "samplers=['uniform']\nseeds=[0]\nbatch_size=187\n",
}
# Each wrong use: its arguments (OUT: an output path in tmp_path, FILE: an existing file,
# DIR: an existing folder, SUITE/x: a bad suite file) and a fragment of its one line.
BAD = [
    (TRAIN + ["--seeds", "a,b"], "--seeds takes comma-separated ints >= 0"),
    (TRAIN + ["--seeds", "0,,1"], "got '0,,1'"),
    (TRAIN + ["--seeds", "-1"], "got '-1'"),
    (TRAIN + ["--seeds", ""], "got ''"),
    (TRAIN + ["--seeds", "0,0"], "--seeds repeats a value"),
    (TRAIN + ["--loss", "jsd"], "graphcl takes the loss infonce, dcl, hcl, got 'jsd'"),
    (TRAIN + ["--method", "mvgrl", "--loss", "dcl"], "mvgrl takes the loss jsd"),
    (TRAIN + ["--method", "simclr"], "argument --method: invalid choice: 'simclr'"),
    (TRAIN + ["--loss", "nce"], "argument --loss: invalid choice: 'nce'"),
    (TRAIN + ["--sampler", "random"], "argument --sampler: invalid choice: 'random'"),
    (TRAIN + ["--device", "gpu7"], "unknown device 'gpu7'"),
    (TRAIN + ["--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
    (TRAIN + ["--epochs", "0"], "epochs must be >= 1, got 0"),
    (TRAIN + ["--epochs", "-3"], "epochs must be >= 1, got -3"),
    (TRAIN + ["--epochs", "2.5"], "argument --epochs: invalid int value: '2.5'"),
    (TRAIN + ["--batch-size", "0"], "batch_size must be >= 1, got 0"),
    (TRAIN + ["--batch-size", "x"], "argument --batch-size: invalid int value"),
    (TRAIN + ["--lr", "0"], "lr must be a number > 0, got 0.0"),
    (TRAIN + ["--lr", "-0.1"], "lr must be a number > 0, got -0.1"),
    (TRAIN + ["--lr", "nan"], "lr must be a number > 0, got nan"),
    (TRAIN + ["--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (TRAIN + ["--sampler", "proximity", "--num-candidates", "0"], "num_candidates must be >= 1"),
    (TRAIN + ["--sampler", "proximity", "--num-neighbors", "0"], "num_neighbors must be >= 1"),
    (TRAIN + ["--sampler", "proximity", "--num-candidates", "1000", "--num-neighbors", "2000"],
     "num_neighbors (2000) must be smaller than num_candidates (1000)"),
    (TRAIN + ["--sampler", "proximity", "--restart-prob", "1"], "restart_prob must be a number"),
    (TRAIN + ["--sampler", "proximity", "--restart-prob", "-0.5"], "got -0.5"),
    (TRAIN + ["--hidden-channels", "0"], "hidden_channels must be a positive int, got 0"),
    (TRAIN + ["--augmentation", "random9"], "unknown GraphCL augmentation 'random9'"),
    (["train", "--epochs", "1", "--out", "OUT"], "the following arguments are required: --dataset"),
    (TRAIN[:3] + ["--out"], "argument --out: expected one argument"),
    (TRAIN + ["--out", "DIR"], "is a folder; give a file"),
    (TRAIN + ["--out", "FILE/r.jsonl"], "is a file, so nothing can be written under it"),
    (TRAIN + ["--out", "FILE/deeper/r.jsonl"], "is a file, so nothing can be written under it"),
    (["bench", "--suite", "full"], "unknown suite 'full'; choose one of"),
    (["bench", "--suite", "nowhere/x.toml"], "suite file nowhere/x.toml not found"),
    (["bench", "--suite", "SUITE/typo.toml"], "unknown key(s) epoch; allowed:"),
    (["bench", "--suite", "SUITE/alpha.toml"], "cell 1: restart_prob must be a number in [0, 1)"),
    (["bench", "--suite", "SUITE/method.toml"], "cell 1: unknown method(s) grapcl"),
    (["bench", "--suite", "SUITE/broken.toml"], "suite broken is not valid TOML"),
    (["bench", "--suite", "quick", "--datasets", "NCI1"], "--datasets NCI1 not in suite quick"),
    (["bench", "--suite", "quick", "--datasets", "MUTAG,,"], "--datasets takes comma-separated"),
    (["bench", "--suite", "quick", "--out", "FILE"], "is a file; give a folder"),
    (["bench", "--suite", "quick", "--out", "FILE/sub"], "is a file, so nothing can be written"),
    (["bench", "--suite", "quick", "--device", "gpu7"], "unknown device 'gpu7'"),
    (["bench", "--suite", "quick", "--quick"], "suite quick has none, so drop --quick"),
    (TRAIN + ["--num-candidates", "100"],
     "--num-candidates does not apply to the uniform sampler; proximity, adaptive take it"),
    (TRAIN + ["--sampler", "knn", "--walk-fraction", "0.5"],
     "--walk-fraction does not apply to the knn sampler; proximity, adaptive take it"),
    (TRAIN + ["--method", "mvgrl", "--augmentation", "dnodes"],
     "--augmentation does not apply to the mvgrl method; graphcl takes it"),
    (TRAIN + ["--batch-size", "187"], "MUTAG has 188 graphs: batch_size 187 leaves a last "
                                      "batch of 1 graph"),
    (TRAIN + ["--batch-size", "187", "--drop-last", "--epochs", "0"], "epochs must be >= 1"),
    (TRAIN + ["--sampler", "proximity", "--num-candidates", "100", "--num-neighbors", "0.9"],
     "MUTAG has 188 graphs: num_neighbors (170) must be smaller than num_candidates (100)"),
    (TRAIN + ["--device", "mps"], "device 'mps' is not supported: graphsampler runs on cpu"),
    (TRAIN + ["--data-root", "FILE"], "is a file, not a folder; give a folder (--data-root"),
    (TRAIN + ["--data-root", "FILE/data"], "is a file, not a folder"),
    (TRAIN + ["--dataset", "mutag"], "unknown TU dataset 'mutag' (did you mean 'MUTAG'?)"),
    (["bench", "--suite", "quick", "--data-root", "FILE"], "is a file, not a folder"),
    (["bench", "--suite", "SUITE/dataset.toml"],
     "unknown TU dataset 'Mutag' (did you mean 'MUTAG'?)"),
    (["bench", "--suite", "SUITE/lastone.toml"], "MUTAG has 188 graphs: batch_size 187"),
    (TRAIN + ["--seeds", "0,1", "--save-model", "m.pt"],
     "--save-model m.pt: 2 seeds would write one file; put {seed} in the path"),
    (TRAIN + ["--save-model", "FILE/m-{seed}.pt"],
     "--save-model FILE/m-0.pt: FILE is a file, so nothing can be written under it"),
    (TRAIN + ["--save-model", "DIR"], "--save-model DIR is a folder; give a file"),
    (["bench"], "the following arguments are required: --suite"),
    (["report", "DIR"], "results.jsonl not found"),
    (["trian"], "argument command: invalid choice: 'trian'"),
]


def _no_run(*args, **kwargs):
    raise AssertionError("a run started")


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_a_wrong_use_ends_in_one_line_before_any_work(tmp_path, monkeypatch, capsys, argv,
                                                      message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("not a folder")
    (tmp_path / "DIR").mkdir()
    (tmp_path / "SUITE").mkdir()
    for name, text in BAD_SUITES.items():
        (tmp_path / "SUITE" / name).write_text(text)
    if "--out" not in argv and argv[0] == "train":
        argv = [*argv, "--out", "OUT/r.jsonl"]
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)  # names checked by case
    monkeypatch.setattr("graphsampler.bench.runner.train", None)  # training would raise
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert message in err and err.startswith("graphsampler")
    assert sorted(os.listdir(tmp_path)) == ["DIR", "FILE", "SUITE"]  # nothing written


@pytest.mark.slow
def test_a_record_that_cannot_be_written_is_printed_not_lost(tu_mirror, tmp_path, monkeypatch,
                                                             capsys):
    import graphsampler.bench.results as results

    def full_disk(path, record):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(results, "append_record", full_disk)
    monkeypatch.setattr("graphsampler.bench.append_record", full_disk)
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    with pytest.raises(SystemExit) as exc:
        main(["train", "--dataset", "MUTAG", "--epochs", "1", "--device", "cpu", "--quiet",
              "--out", str(tmp_path / "r.jsonl")])
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]  # after the loader's progress lines
    assert exc.value.code == 2 and "Traceback" not in captured.err
    assert "No space left on device" in last and "the record of seed 0 is on stdout" in last
    record = json.loads(captured.out.splitlines()[0])
    assert record["dataset"] == "MUTAG" and len(record["fold_accuracies"]) == 10


def test_a_tu_zip_pyg_cannot_parse_ends_in_one_line(tmp_path, monkeypatch, capsys):
    import zipfile
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "BROKEN.zip", "w") as archive:
        archive.writestr("BROKEN/BROKEN_A.txt", "1, 2\n2, 3\n3, 9\n")  # node 9 has no graph
        archive.writestr("BROKEN/BROKEN_graph_indicator.txt", "1\n1\n1\n")
        archive.writestr("BROKEN/BROKEN_graph_labels.txt", "0\n")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(mirror))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--dataset", "BROKEN", "--device", "cpu", "--quiet",
              "--out", str(tmp_path / "x.jsonl")])
    assert exit_info.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines()
           if not line.startswith("graphsampler: ")]
    assert len(err) == 1 and "cannot process the raw files of BROKEN" in err[0]
    assert "Traceback" not in err[0] and not (tmp_path / "x.jsonl").exists()


@pytest.mark.parametrize("command", ["train", "bench"])
def test_a_dataset_missing_from_the_mirror_is_found_once_before_any_run(
        tmp_path, monkeypatch, capsys, command):
    (tmp_path / "mirror").mkdir()
    random_tu_zip(tmp_path / "mirror" / "MUTAG.zip", "MUTAG")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("graphsampler.bench.run", _no_run)
    monkeypatch.setattr("graphsampler.bench.queue.run", _no_run)
    (tmp_path / "s.toml").write_text("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG', "
                                     "'PROTIENS']\nsamplers=['uniform']\nseeds=[0, 1]\n")
    argv = (["train", "--dataset", "PROTIENS", "--seeds", "0,1", "--out", "o/r.jsonl"]
            if command == "train" else ["bench", "--suite", "s.toml", "--out", "o"])
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1, err
    assert (f"the TU mirror {tmp_path / 'mirror'} has no PROTIENS.zip (did you mean "
            f"'PROTEINS'?)") in err
    assert sorted(os.listdir(tmp_path)) == ["mirror", "s.toml"]


def test_without_a_mirror_an_unknown_name_in_a_suite_ends_the_bench_once_before_any_run(
        tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    asked = []

    def server(root, name, **kwargs):  # the TU server has no such zip
        asked.append(name)
        raise FileNotFoundError(f"HTTP Error 404: {name}.zip")
    monkeypatch.setattr("graphsampler.data.tu.TUDataset", server)
    monkeypatch.setattr("graphsampler.bench.queue.run", _no_run)
    (tmp_path / "s.toml").write_text("[[cells]]\nmethods=['graphcl']\ndatasets=['PTC_RM']\n"
                                     "samplers=['uniform', 'knn']\nseeds=[0, 1, 2]\n")
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--suite", "s.toml", "--out", "o"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and asked == ["PTC_RM"]
    assert "unknown TU dataset 'PTC_RM': the TU server has no PTC_RM.zip" in err
    assert sorted(os.listdir(tmp_path)) == ["s.toml"]


def test_node_attributes_of_a_dataset_without_them_is_refused_before_training(
        tmp_path, monkeypatch, capsys):
    (tmp_path / "mirror").mkdir()
    random_tu_zip(tmp_path / "mirror" / "NOATTR.zip", "NOATTR")
    monkeypatch.setenv("GRAPHSAMPLER_TU_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("GRAPHSAMPLER_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("graphsampler.bench.runner.train", _no_run)
    with pytest.raises(SystemExit) as exc:
        main(["train", "--dataset", "NOATTR", "--node-attributes", "--device", "cpu",
              "--batch-size", "8", "--quiet", "--out", "r.jsonl"])
    err = [line for line in capsys.readouterr().err.splitlines()
           if not line.startswith("graphsampler: ")]
    assert exc.value.code == 2 and len(err) == 1
    assert "NOATTR has no node attributes (no NOATTR_node_attributes.txt)" in err[0]
    assert sorted(os.listdir(tmp_path)) == ["data", "mirror"]  # the dataset cache only


def test_an_out_file_that_cannot_be_created_is_found_before_work(tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("graphsampler.bench.run", _no_run)
    monkeypatch.setattr("pathlib.Path.open", _refuse_open)
    with pytest.raises(SystemExit) as exc:
        main(TRAIN + ["--out", "new/r.jsonl"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.splitlines()) == 1
    assert "--out new/r.jsonl: cannot write there (Read-only file system)" in err
    assert os.listdir(tmp_path) == []


def _refuse_open(self, *args, **kwargs):
    raise OSError(30, "Read-only file system")


def test_train_into_a_running_bench_folder_is_refused(tmp_path, monkeypatch, capsys):
    fcntl = pytest.importorskip("fcntl")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)
    monkeypatch.setattr("graphsampler.bench.run", _no_run)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "results.jsonl").write_text("")
    with open(tmp_path / "runs" / ".bench.lock", "a") as lock:  # a bench holds it
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SystemExit) as exc:
            main(TRAIN + ["--out", "runs/results.jsonl"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.splitlines()) == 1
    assert "a bench is running on runs (it holds runs/.bench.lock)" in err
    assert (tmp_path / "runs" / "results.jsonl").read_text() == ""


def test_bf16_on_a_cpu_without_bfloat16_instructions_warns_in_one_line(tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHSAMPLER_TU_MIRROR", raising=False)
    monkeypatch.setattr("graphsampler.precision.cpu_has_bf16", lambda: False)

    def stop(*args, **kwargs):
        raise ValueError("stopped before training")
    monkeypatch.setattr("graphsampler.bench.run", stop)
    with pytest.raises(SystemExit):
        main(TRAIN + ["--precision", "bf16", "--device", "cpu", "--out", "r.jsonl"])
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("graphsampler: warning: --precision bf16 on a CPU without bfloat16 "
                      "instructions (avx512_bf16, amx_bf16) trains far slower than fp32; "
                      "keep fp32 here")
    assert "stopped before training" in err[1] and len(err) == 2
    monkeypatch.setattr("graphsampler.precision.cpu_has_bf16", lambda: True)
    with pytest.raises(SystemExit):
        main(TRAIN + ["--precision", "bf16", "--device", "cpu", "--out", "r.jsonl"])
    assert "warning" not in capsys.readouterr().err
