import json
from pathlib import Path

import pytest

from graphsampler import cli
from graphsampler.bench import (
    RunConfig,
    Suite,
    append_record,
    checkpoint_path,
    load_suite,
    queue,
    read_results,
    run_suite,
)


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
