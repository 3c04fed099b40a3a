r"""The README runs as written: every ```python block, in order, each in a fresh
namespace, from a scratch working folder (so ``load_tu`` keeps its data in
``./datasets`` there) with the TU mirror of ``tests/conftest.py``. No block is edited
before it runs: they are kept cheap enough on MUTAG to run as they are."""
import re
import subprocess

import pytest
import torch
from conftest import REPO

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) == README.count("```python") >= 4
    assert any("training_step" in b and "sampler.update" in b for b in BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_block_runs_as_written(number, workdir, tu_mirror, monkeypatch):
    block = BLOCKS[number]
    if re.search(r"^import dgl|^from dgl", block, flags=re.M):
        pytest.importorskip("dgl")
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("GRAPHSAMPLER_DATA", raising=False)
    threads = torch.get_num_threads()
    try:
        exec(compile(block, f"README.md python block {number + 1}", "exec"),
             {"__name__": f"readme_{number}"})
    finally:
        torch.set_num_threads(threads)


def test_the_two_commands_install_the_tested_versions():
    first = re.search(r"^```bash\n(.*?)^```", README, flags=re.S | re.M)
    assert README.index(first.group(0)) < README.index("##")  # at the top
    commands = first.group(1).strip().splitlines()
    assert len(commands) == 2
    for command in commands:
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install "
                                  "-c constraints.txt -e ")
    assert "graphsampler bench --suite quick" in commands[0]
    assert commands[1].endswith("&& .venv/bin/python -m pytest -q")
    assert commands[1] in (REPO / ".ci" / "run").read_text().splitlines()
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text()
                .splitlines() if line and not line.startswith("#"))
    assert pins["torch"] == "2.13.0" and pins["dgl"] == "1.1.3"


def test_no_absolute_path_of_one_machine_in_the_project():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    pattern = re.compile("/" + "(work|root|home)/")  # split so this file does not match
    hits = [f"{name}:{n}" for name in files if (REPO / name).is_file()
            for n, line in enumerate((REPO / name).read_text(errors="ignore").splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
