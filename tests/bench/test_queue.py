import json
from pathlib import Path

import pytest

from graphsampler import cli
from graphsampler.bench import (RunConfig, Suite, append_record, checkpoint_path, load_suite,
                                paper_results, queue, read_results, run_suite)
from graphsampler.bench.stats import changed_settings
from graphsampler.bench.suite import read_suite_text
from graphsampler.data import tu_manifest

REPO = Path(__file__).resolve().parents[2]


def fake_record(config: RunConfig) -> dict:
    """What bench.run returns, with made-up numbers."""
    acc = 70.0 + config.seed + (1.0 if config.sampler == "proximity" else 0.0)
    return {
        "method": config.method, "loss": config.loss, "dataset": config.dataset,
        "sampler": config.sampler, "seed": config.seed, "epochs": config.epochs,
        "accuracy_mean": acc, "accuracy_std": 1.0, "fold_accuracies": [acc] * 10,
        "best_c": [1.0] * 10, "train_seconds": 0.5, "eval_seconds": 0.25,
        "device": "cpu (fake)", "commit": "f00d", "versions": {"torch": "x"},
        "config": config.settings(),
        "history": [{"epoch": e, "loss": 1.0, "seconds": 0.1, "neg_cos_mean": 0.1 * e,
                     "neg_cos_max": 0.5, "false_negative_rate": 0.5, "sampler_stats": {}}
                    for e in range(2)],
    }


class FakeRun:
    """Stands in for bench.run: records its calls; call number `stop_at` writes a
    partial checkpoint and raises `error`."""

    def __init__(self, stop_at: int | None = None, error: BaseException = KeyboardInterrupt()):
        self.calls: list[RunConfig] = []
        self.checkpoint_existed: list[bool] = []
        self.checkpoints: list[Path] = []
        self.stop_at, self.error = stop_at, error

    def __call__(self, config, *, checkpoint=None, progress=True):
        self.calls.append(config)
        self.checkpoints.append(Path(checkpoint))
        self.checkpoint_existed.append(Path(checkpoint).exists())
        if len(self.calls) == self.stop_at:
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            Path(checkpoint).write_text("epoch 3 of 20")
            raise self.error
        return fake_record(config)


@pytest.fixture
def fake(monkeypatch):
    def install(**kwargs) -> FakeRun:
        run = FakeRun(**kwargs)
        monkeypatch.setattr(queue, "run", run)
        return run
    return install


@pytest.fixture
def no_plots(monkeypatch):
    """bench's report stubbed out (test_report tests the real one): the folders given."""
    folders: list[Path] = []

    def write_report(out_dir):
        folders.append(Path(out_dir))
        return Path(out_dir) / "report.md"
    monkeypatch.setattr(queue, "write_report", write_report)
    return folders


def write(tmp_path: Path, text: str, name: str = "suite.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def results_lines(out: Path) -> list[str]:
    return (out / "results.jsonl").read_text().splitlines()


def test_quick_suite_expands_to_the_product_in_order():
    suite = load_suite("quick")
    expected = [RunConfig(dataset=d, seed=s, sampler=sampler)
                for d in ("MUTAG", "IMDB-BINARY") for s in (0, 1)
                for sampler in ("uniform", "proximity")]
    assert list(suite.configs) == expected and suite.name == "quick" and not suite.scripts
    assert read_suite_text("quick")[0] == "quick"


def test_paper_suite_covers_the_paper_table_smallest_datasets_first():
    suite = load_suite("paper")
    assert all(changed_settings(c.settings()) == {} for c in suite.configs)  # the paper's
    cells = {(c.method, c.loss, c.sampler, c.dataset) for c in suite.configs}
    assert cells == set(paper_results())
    for cell in cells:
        seeds = [c.seed for c in suite.configs if (c.method, c.loss, c.sampler, c.dataset) == cell]
        assert seeds == [0, 1, 2, 3, 4]
    manifest = tu_manifest()
    size = [manifest[c.dataset]["graphs"]
            * (manifest[c.dataset]["avg_nodes"] + manifest[c.dataset]["avg_edges"])
            for c in suite.configs]
    assert size == sorted(size) and len(suite.configs) == 375


def test_mvgrl_suite_covers_seven_datasets_fewest_nodes_first():
    suite = load_suite("mvgrl")
    assert all(changed_settings(c.settings()) == {} for c in suite.configs)
    cells = {(c.method, c.loss, c.sampler, c.dataset, c.seed) for c in suite.configs}
    datasets = ("MUTAG", "IMDB-BINARY", "IMDB-MULTI", "PROTEINS", "NCI1", "COLLAB",
                "REDDIT-BINARY")
    assert cells == {("mvgrl", "jsd", s, d, seed) for s in ("uniform", "knn", "proximity")
                     for d in datasets for seed in range(5)}
    assert len(suite.configs) == len(cells)
    manifest = tu_manifest()
    nodes = [manifest[c.dataset]["graphs"] * manifest[c.dataset]["avg_nodes"]
             for c in suite.configs]
    # IMDB-BINARY and IMDB-MULTI hold about as many nodes (19.8k, 19.5k): in the paper
    # table's order; from PROTEINS on, fewest nodes first
    order = [d for i, d in enumerate(c.dataset for c in suite.configs)
             if i == 0 or suite.configs[i - 1].dataset != d]
    assert order == list(datasets)
    assert nodes[3 * 15:] == sorted(nodes[3 * 15:])


def test_speed_suite_lists_the_scripts():
    suite = load_suite("speed")
    assert not suite.configs
    names = ("sampler_speed", "epoch_speed", "svm_speed", "mvgrl_speed", "mvgrl_flops",
             "bf16_memory")
    assert [s.path for s in suite.scripts] == [Path("benchmarks", f"{n}.py") for n in names]
    assert all((REPO / s.path).exists() for s in suite.scripts)


def test_cell_overrides_and_loss_pairing(tmp_path):
    path = write(tmp_path, """
description = "custom"
[[cells]]
methods = ["graphcl", "mvgrl"]
losses = ["dcl", "jsd"]
datasets = ["NCI1"]
samplers = ["knn"]
seeds = [3]
epochs = 2
lr = 1
augmentation = "random4"
precision = "bf16"
[[cells]]
methods = ["graphcl"]
datasets = ["MUTAG"]
samplers = ["uniform"]
seeds = [0]
""")
    suite = load_suite(path, device="cpu", data_root="/data")
    common = dict(dataset="NCI1", sampler="knn", seed=3, epochs=2, lr=1.0,
                  augmentation="random4", precision="bf16", device="cpu", data_root="/data")
    assert list(suite.configs) == [
        RunConfig(method="graphcl", loss="dcl", **common),
        RunConfig(method="mvgrl", loss="jsd", **common),
        RunConfig(method="graphcl", loss="infonce", dataset="MUTAG", device="cpu",
                  data_root="/data")]
    assert suite.name == "suite" and suite.description == "custom"


def test_bench_writes_one_line_per_run_and_a_rerun_runs_nothing(tmp_path, fake, no_plots):
    run = fake()
    suite = load_suite("quick")
    out = tmp_path / "out"
    result = run_suite(suite, out, progress=False)
    assert run.calls == list(suite.configs) and result.skipped == 0 and result.ok
    lines = results_lines(out)
    assert [json.loads(line) for line in lines] == [fake_record(c) for c in suite.configs]
    assert run.checkpoints == [checkpoint_path(out, c) for c in suite.configs]
    assert len(set(run.checkpoints)) == 8 and all(p.parent == out / "checkpoints"
                                                  for p in run.checkpoints)
    assert not any(p.exists() for p in run.checkpoints)
    assert result.report == out / "report.md" and no_plots == [out]

    again = fake()
    result = run_suite(suite, out, progress=False)
    assert again.calls == [] and result.skipped == 8 and result.records == []
    assert results_lines(out) == lines and no_plots == [out, out]  # the report is rewritten


def test_interrupted_suite_keeps_earlier_records_and_resumes_the_rest(tmp_path, fake, no_plots):
    suite = load_suite("quick")
    out = tmp_path / "out"
    fake(stop_at=3)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out, progress=False)
    assert [json.loads(line) for line in results_lines(out)] == [
        fake_record(c) for c in suite.configs[:2]]
    assert checkpoint_path(out, suite.configs[2]).exists()  # the run in progress

    rerun = fake()
    result = run_suite(suite, out, progress=False)
    assert rerun.calls == list(suite.configs[2:]) and result.skipped == 2
    assert rerun.checkpoint_existed == [True] + [False] * 5  # resumes from its checkpoint
    assert not checkpoint_path(out, suite.configs[2]).exists()
    assert [json.loads(line) for line in results_lines(out)] == [
        fake_record(c) for c in suite.configs]


def test_truncated_last_line_is_ignored_with_a_warning(tmp_path, fake, no_plots):
    suite = load_suite("quick", datasets=["MUTAG"])
    out = tmp_path / "out"
    fake()
    run_suite(suite, out, progress=False)
    text = (out / "results.jsonl").read_text()
    cut = text[:len(text) - len(text.splitlines()[-1]) // 2 - 1]  # a kill mid-write
    (out / "results.jsonl").write_text(cut)

    rerun = fake()
    with pytest.warns(RuntimeWarning, match=r"results.jsonl:4: skipped a line that is not "
                                            r"a complete run record \(JSONDecodeError"):
        run_suite(suite, out, progress=False)
    assert rerun.calls == [suite.configs[3]]
    with pytest.warns(RuntimeWarning, match="skipped a line"):
        records = read_results(out / "results.jsonl")
    assert records == [fake_record(c) for c in suite.configs]


def test_append_record_closes_a_cut_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"half": ')
    append_record(path, {"a": 1})
    append_record(path, {"b": 2})
    assert path.read_text().splitlines() == ['{"half": ', '{"a": 1}', '{"b": 2}']


def test_datasets_filter(tmp_path):
    suite = load_suite("quick", datasets=["IMDB-BINARY"])
    assert [c.dataset for c in suite.configs] == ["IMDB-BINARY"] * 4
    assert len(load_suite("quick", datasets=["MUTAG", "IMDB-BINARY"]).configs) == 8
    with pytest.raises(ValueError, match="--datasets NCI1 not in suite quick; its datasets "
                                         "are MUTAG, IMDB-BINARY"):
        load_suite("quick", datasets=["MUTAG", "NCI1"])


def test_two_benches_never_share_a_folder(tmp_path, fake, no_plots):
    fcntl = pytest.importorskip("fcntl")
    run = fake()
    with (tmp_path / ".bench.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a bench in another process
        with pytest.raises(ValueError, match=f"another bench is running on {tmp_path}; "
                                             f"wait for it or give --out another folder"):
            run_suite(load_suite("quick"), tmp_path, progress=False)
    assert run.calls == [] and not (tmp_path / "results.jsonl").exists()
    run_suite(load_suite("quick"), tmp_path, progress=False)  # released: runs
    assert len(run.calls) == 8


def test_a_failing_run_is_reported_and_the_suite_goes_on(tmp_path, fake, no_plots):
    run = fake(stop_at=2, error=RuntimeError("out of memory"))
    suite = load_suite("quick")
    result = run_suite(suite, tmp_path, progress=False)
    assert len(run.calls) == 8 and len(result.records) == 7 and not result.ok
    assert result.failed == [(suite.configs[1], "RuntimeError: out of memory")]
    assert len(results_lines(tmp_path)) == 7


def test_scripts_run_with_quick_and_missing_ones_are_skipped(tmp_path):
    ok = write(tmp_path, "import sys\nprint('args', sys.argv[1:])\n", "ok_speed.py")
    bad = write(tmp_path, "import sys\nsys.exit(3)\n", "bad_speed.py")
    path = write(tmp_path, f"""
[[scripts]]
path = "{ok}"
args = ["--n", "5"]
[[scripts]]
path = "benchmarks/no_such_speed.py"
[[scripts]]
path = "{bad}"
""")
    out = tmp_path / "out"
    result = run_suite(load_suite(path), out, progress=False, quick=True)
    assert [status for _, status in result.scripts] == ["ok", "missing", "failed (exit 3)"]
    assert (out / "ok_speed.log").read_text() == "args ['--n', '5', '--quick']\n"
    assert not result.ok and result.report is None


@pytest.mark.parametrize("text, message", [
    ("cells = [", r"suite suite is not valid TOML"),
    ("name = 'x'", r"unknown key\(s\) name; allowed: description, cells, scripts"),
    ("description = 3", "description must be a string"),
    ("cells = 3", r"cells must be a list of tables, written \[\[cells\]\]"),
    ("description = 'empty'", r"has neither \[\[cells\]\] nor \[\[scripts\]\]"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epoch=3", r"cell 1: unknown key\(s\) epoch; allowed: methods, losses, datasets, samplers, "
                r"seeds, epochs, batch_size, lr, hidden_channels, augmentation, bank, "
                r"num_candidates, num_neighbors, restart_prob, restart_schedule, epoch_rule, "
                r"twin_threshold, dedupe_twins, walk_fraction, target_hardness, "
                r"drop_last, node_attributes, precision"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "augmentation='random9'", r"cell 1: unknown GraphCL augmentation 'random9'; choose one of "),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "augmentation=2", r"cell 1: augmentation must be str, got 2"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "precision='fp16'", r"cell 1: unknown precision 'fp16'; choose one of"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']", r"missing key\(s\) samplers, seeds"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[]",
     "seeds must be a non-empty list of ints"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[true]",
     "seeds must be a non-empty list of ints"),
    ("[[cells]]\nmethods='graphcl'\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]",
     "methods must be a non-empty list of strings"),
    ("[[cells]]\nmethods=['simclr']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]",
     r"unknown method\(s\) simclr; choose from graphcl, mvgrl"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['random']\nseeds=[0]",
     r"cell 1: unknown sampler 'random'; choose one of uniform, fixed, knn, proximity, adaptive"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "restart_prob=1", r"cell 1: restart_prob must be a number in \[0, 1\)"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "num_candidates=1000\nnum_neighbors=1000",
     r"cell 1: num_neighbors \(1000\) must be smaller than num_candidates"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epochs=0", r"cell 1: epochs must be >= 1, got 0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "batch_size=-1", r"cell 1: batch_size must be >= 1, got -1"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "hidden_channels=0", r"cell 1: hidden_channels must be a positive int, got 0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[-1]",
     "cell 1: seed must be >= 0, got -1"),
    ("[[cells]]\nmethods=['graphcl']\nlosses=['jsd']\ndatasets=['MUTAG']\nsamplers=['uniform']"
     "\nseeds=[0]", r"losses \['jsd'\] do not fit methods \['graphcl'\] \(graphcl takes "
                    r"infonce, dcl, hcl; mvgrl takes jsd\)"),
    ("[[cells]]\nmethods=['graphcl', 'mvgrl']\nlosses=['dcl']\ndatasets=['MUTAG']\n"
     "samplers=['uniform']\nseeds=[0]", "every loss needs a method and every method a loss"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epochs=2.5", "cell 1: epochs must be int, got 2.5"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "lr=0", r"cell 1: lr must be a number > 0, got 0.0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "restart_prob=1.5", r"restart_prob must be a number in \[0, 1\) .*, got 1.5"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0, 1]\n"
     "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[1]",
     "cell 2 repeats the run graphcl/infonce MUTAG uniform seed 1 of an earlier cell"),
    ("[[scripts]]\npath=3", "script 1: path must be a string"),
    ("[[scripts]]\npath='a.py'\nargs='--quick'", "script 1: args must be a list of strings"),
    ("[[scripts]]\npath='a.py'\nquick=true", r"script 1: unknown key\(s\) quick; allowed: "
                                             r"path, args"),
])
def test_bad_suite_files(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_suite(write(tmp_path, text))


def test_unknown_suites():
    with pytest.raises(ValueError, match="unknown suite 'full'; choose one of ablation, confirm, cpu, mvgrl, mvgrl_bf16, paper, quick, "
                                         "speed or give a path to a .toml file"):
        load_suite("full")
    with pytest.raises(ValueError, match="suite file nowhere/x.toml not found"):
        load_suite("nowhere/x.toml")


def test_cli_bench_end_to_end(tmp_path, fake, capsys):
    out = tmp_path / "out"
    args = ["bench", "--suite", "quick", "--datasets", "MUTAG", "--out", str(out), "--quiet"]
    assert cli.main([*args, "--dry-run"]) == 0
    listing = capsys.readouterr().out
    assert "4 run(s), 0 already in" in listing and "4 to run" in listing
    assert "run graphcl/infonce MUTAG proximity seed 1, 20 epochs" in listing

    run = fake()
    assert cli.main([*args, "--device", "cpu"]) == 0
    assert [c.device for c in run.calls] == ["cpu"] * 4
    assert [c.dataset for c in run.calls] == ["MUTAG"] * 4
    assert len(results_lines(out)) == 4 and (out / "report.md").exists()
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out

    assert cli.main([*args, "--dry-run"]) == 0
    assert "4 already in" in capsys.readouterr().out
    (out / "report.md").unlink()
    assert cli.main(["report", str(out)]) == 0 and (out / "report.md").exists()

    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--suite", "full", "--out", str(out)])
    assert exc.value.code == 2
    assert "bench: error: unknown suite 'full'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["bench", "--suite", "quick", "--quick", "--out", str(out)])
    assert "suite quick has none, so drop --quick" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["report", str(tmp_path / "empty")])
    assert "results.jsonl not found" in capsys.readouterr().err


def test_cli_bench_exits_1_when_a_run_fails(tmp_path, fake, no_plots, capsys):
    fake(stop_at=1, error=ValueError("bad"))
    code = cli.main(["bench", "--suite", "quick", "--datasets", "MUTAG", "--out",
                     str(tmp_path), "--quiet"])
    assert code == 1 and len(results_lines(tmp_path)) == 3 and no_plots == [tmp_path]
    assert "FAILED graphcl/infonce MUTAG uniform seed 0: ValueError: bad" in capsys.readouterr().out


def test_no_report_without_results(tmp_path, fake, no_plots):
    fake(stop_at=1, error=RuntimeError("no MVGRL yet"))
    result = run_suite(Suite("one", configs=(RunConfig(),)), tmp_path, progress=False)
    assert result.report is None and no_plots == [] and len(result.failed) == 1


def test_a_suite_accepts_what_the_sampler_accepts(tmp_path):
    """restart_prob 0 (the sampler takes it) passes; a key that does not apply to a
    cell's sampler is left out of its runs' settings."""
    path = write(tmp_path, """
[[cells]]
methods = ["graphcl", "mvgrl"]
datasets = ["PTC_MR"]
samplers = ["uniform", "proximity"]
seeds = [0]
restart_prob = 0
""")
    configs = load_suite(path).configs
    assert [c.restart_prob for c in configs] == [0] * 4 and configs[0].dataset == "PTC_MR"
    assert ["restart_prob" in c.settings() for c in configs] == [False, True] * 2
    assert ["augmentation" in c.settings() for c in configs] == [True, True, False, False]
