import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_dry_run_from_a_wheel_outside_the_checkout(tmp_path):
    """The suites ship as package data: a wheel installed away from the checkout, run in
    an empty folder, lists the quick suite and plans ./runs/quick."""
    wheels, site, empty = tmp_path / "wheels", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    source = tmp_path / "source"  # a copy, so that the build leaves the checkout alone
    shutil.copytree(REPO / "graphsampler", source / "graphsampler",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w",
                    str(wheels)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("graphsampler-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import graphsampler; print(graphsampler.__file__)"],
        cwd=empty, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(site)
    done = subprocess.run([sys.executable, "-m", "graphsampler", "bench", "--suite", "quick",
                           "--dry-run"], cwd=empty, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("suite quick: 8 run(s), 0 already in runs/quick/results.jsonl")
    assert os.listdir(empty) == []  # a dry run writes nothing


def test_the_dgl_extra_admits_the_tested_dgl_and_no_dgl_2():
    import tomllib
    Requirement = pytest.importorskip("packaging.requirements").Requirement
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["dgl"]
    spec = next(Requirement(r) for r in extra if Requirement(r).name == "dgl").specifier
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text()
                .splitlines() if line and not line.startswith("#"))
    assert pins["dgl"] in spec  # the tested version
    assert "2.1.0" not in spec and "1.1.2" not in spec  # no graphbolt; unchecked
