import json
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

from graphsampler.distributed import is_main_process, main_process_first, process_group


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_torchrun_nothing_happens(monkeypatch):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    with process_group(torch.device("cpu")), main_process_first():
        assert not dist.is_initialized() and is_main_process()


def test_joins_and_leaves_the_group_torchrun_describes(monkeypatch):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    with process_group(torch.device("cpu")):
        assert dist.get_backend() == "gloo" and is_main_process()
        with main_process_first():
            assert dist.get_world_size() == 1
    assert not dist.is_initialized()


def test_a_rank_without_its_own_gpu_is_an_error(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"LOCAL_RANK=1 asks for GPU cuda:1, but 1 GPU\(s\) are "
                                         r"visible; start at most 1 processes per node"):
        with process_group(torch.device("cuda")):
            pass


@pytest.mark.slow
def test_torchrun_trains_on_two_ranks_and_rank_0_writes_one_record(tu_mirror, tmp_path):
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
           "--nproc_per_node", "2", "--rdzv-backend", "c10d",
           "--rdzv-endpoint", f"127.0.0.1:{free_port()}",
           "-m", "graphsampler", "train", "--method", "graphcl", "--dataset", "MUTAG",
           "--sampler", "proximity", "--epochs", "2", "--device", "cpu", "--out", str(out),
           "--quiet"]
    env = {**os.environ, "GRAPHSAMPLER_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["method"] == "graphcl" and len(record["fold_accuracies"]) == 10
    # 188 graphs, 2 batches: one per rank; the bank only fills up if the ranks share it
    assert record["history"][0]["sampler_stats"]["uniform"]
    assert record["history"][1]["sampler_stats"]["graph_builds"] == 1
    assert proc.stdout.count(" over 1 seed\n") == 1  # one summary, from rank 0
