r"""MVGRL's resident memory over many epochs, float32 against bfloat16 autocast.

On the CPU, bfloat16 matrix products run through oneDNN, which builds (and caches) a
kernel for every new problem shape; batches of graphs bring a new node count almost
every time, so the process grows until oneDNN's primitive cache (1,024 entries by
default, ``ONEDNN_PRIMITIVE_CACHE_CAPACITY``) is full. This script measures how much
and for how long: MVGRL trained by :func:`graphsampler.train.train` (uniform batches of
128, lr 0.001, one thread) for ``--epochs`` epochs in each precision, each in its own
child process, with the RSS after every epoch, both as it is and after
``malloc_trim(0)`` (glibc returns its free pages: what remains is memory in use).
The baseline is the float32 run in the same script. Epoch times are recorded in the
JSON but not reported: this is a memory benchmark, run beside other work.

    python benchmarks/bf16_memory.py                  # IMDB-BINARY, 40 epochs
    python benchmarks/bf16_memory.py --quick          # MUTAG, 3 epochs

Needs the dataset (GRAPHSAMPLER_TU_MIRROR or a download). Writes
benchmarks/results/bf16_memory.json and .md (``bf16_memory_quick.*`` with --quick; or
--out DIR).
"""
from __future__ import annotations

import argparse
import json
import sys

import torch
from _helpers import (
    MIB,
    RESULTS,
    EpochMemory,
    provenance,
    rss_bytes,
    run_in_child,
    write_results,
)

from graphsampler.data import IndexedDataset
from graphsampler.data.prepare import load_mvgrl_dataset
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.samplers import UniformBatchSampler
from graphsampler.train import train

BATCH_SIZE, LR = 128, 0.001


def measure(name: str, precision: str, epochs: int) -> dict:
    r"""Trains MVGRL for ``epochs`` epochs in ``precision`` and returns the RSS after every
    epoch; run in a child process (:func:`run_in_child`)."""
    torch.set_num_threads(1)
    dataset = IndexedDataset(load_mvgrl_dataset(name, progress=False))
    torch.manual_seed(0)
    sampler = UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0)
    start = rss_bytes() / MIB
    result = train(MVGRL(dataset.num_features), dataset, sampler, epochs=epochs, lr=LR,
                   device="cpu", progress=False, precision=precision,
                   callbacks=[EpochMemory(trim=True)])
    return {"precision": precision, "rss_before_training_mib": start,
            "rss_after_epoch_mib": [h["rss_mib"] for h in result.history],
            "rss_after_epoch_trimmed_mib": [h["rss_trimmed_mib"] for h in result.history],
            "epoch_seconds": [h["seconds"] for h in result.history]}


def plateau_epoch(trimmed: list[float], tolerance_mib: float) -> int | None:
    """The first epoch after which the trimmed RSS never rises by more than
    ``tolerance_mib`` per epoch again (None if it still does at the end)."""
    for start in range(len(trimmed) - 1):
        if all(b - a <= tolerance_mib for a, b in zip(trimmed[start:], trimmed[start + 1:])):
            return start + 1
    return None


def markdown(result: dict) -> list[str]:
    lines = [f"# MVGRL memory over {result['epochs']} epochs, float32 vs bfloat16 "
             f"({result['dataset']}, {result['device']}, commit {result['commit'][:12]})", "",
             f"RSS after each epoch (MiB), each precision in its own process; *trimmed*: "
             f"after `malloc_trim(0)`. Plateau: the first epoch after which the trimmed RSS "
             f"never grows by more than {result['tolerance_mib']} MiB per epoch.", "",
             "| precision | before training | after epoch 1 | after the last epoch | "
             "trimmed: after epoch 1 | trimmed: after the last | trimmed: max - after "
             "epoch 1 | plateau from epoch |",
             "|---|---|---|---|---|---|---|---|"]
    for run in result["runs"]:
        rss, trimmed = run["rss_after_epoch_mib"], run["rss_after_epoch_trimmed_mib"]
        plateau = run["plateau_epoch"]
        lines.append(f"| {run['precision']} | {run['rss_before_training_mib']:.0f} | "
                     f"{rss[0]:.0f} | {rss[-1]:.0f} | {trimmed[0]:.0f} | {trimmed[-1]:.0f} | "
                     f"{max(trimmed) - trimmed[0]:.0f} | "
                     f"{'none (still growing)' if plateau is None else plateau} |")
    lines += ["", "Trimmed RSS after every epoch:", ""]
    for run in result["runs"]:
        lines.append(f"- {run['precision']}: "
                     + ", ".join(f"{v:.0f}" for v in run["rss_after_epoch_trimmed_mib"]))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="MUTAG, 3 epochs")
    parser.add_argument("--dataset", default="IMDB-BINARY")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--tolerance", type=float, default=5.0,
                        help="MiB per epoch below which the RSS counts as flat")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.quick:
        args.dataset, args.epochs = "MUTAG", 3
    torch.set_num_threads(1)
    result = {"dataset": args.dataset, "epochs": args.epochs, "batch_size": BATCH_SIZE,
              "lr": LR, "tolerance_mib": args.tolerance, **provenance("cpu"), "runs": []}
    for precision in ("fp32", "bf16"):
        run = run_in_child(measure, args.dataset, precision, args.epochs)
        run["plateau_epoch"] = plateau_epoch(run["rss_after_epoch_trimmed_mib"],
                                             args.tolerance)
        result["runs"].append(run)
        print(json.dumps(run), flush=True)
    write_results(args.out, "bf16_memory_quick" if args.quick else "bf16_memory", result,
                  markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
