r"""Our MVGRL epoch against its FLOP floor, measured in one process, in float32 and in
bfloat16.

For every dataset, in this order:

1. The floor, as ``mvgrl_flops.py`` computes it: the dense-product FLOPs of one whole
   epoch (every batch, forward and backward, :class:`~torch.utils.flop_counter.FlopCounterMode`)
   at the throughput of a batch-sized ``[N, 512] x [512, 512]`` product in the
   precision's dtype on ``--threads`` threads (median of ``--repeats``). A CPU without
   bfloat16 instructions (AVX-512 BF16, AMX) multiplies bfloat16 far slower than
   float32: there the float32 row is the one that says how fast an epoch can be.
2. The epoch: :func:`graphsampler.train.train` with that ``precision``, uniform batches
   of 128, lr 0.001, one warm-up epoch and ``--epochs`` timed ones (the epoch time of
   ``mvgrl_speed.py``: collation, forward, backward, Adam, the sampler's update). The
   ratio is their mean over the floor; the target is 1.5.
3. Where the time goes: one more epoch under :mod:`torch.profiler`, each
   operator's own time given to its nearest listed ancestor (dense products, neighbour
   sums with their casts, PReLU, casts, readouts, Adam, collation; the rest is "other"),
   as fractions of the profiled total (the profiler's overhead included).

    python benchmarks/mvgrl_epoch.py              # MUTAG and IMDB-BINARY
    python benchmarks/mvgrl_epoch.py --quick      # MUTAG, 2 timed epochs

Needs the datasets (GRAPHSAMPLER_TU_MIRROR or a download). Writes
benchmarks/results/mvgrl_epoch.json and .md (``mvgrl_epoch_quick.*`` with --quick; or
--out DIR).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
from collections import Counter

import torch
from _helpers import RESULTS, provenance, write_results
from _mvgrl_baselines import BATCH_SIZE, LR
from mvgrl_flops import gemm_gflops, our_epoch_flops
from torch.profiler import ProfilerActivity, profile

from graphsampler.data import IndexedDataset
from graphsampler.data.prepare import load_mvgrl_dataset
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.samplers import UniformBatchSampler
from graphsampler.train import train

TARGET_RATIO = 1.5  # issue 13
# Profiled operators and autograd nodes by part of the epoch. An operator's own time
# counts in the part of its nearest listed ancestor (itself included), except that
# everything inside a neighbour sum (its sparse product, its casts) counts there.
PARTS = {
    "dense products": {"aten::mm", "aten::addmm", "aten::bmm"},
    "neighbour sums": {"_SparseProduct", "_SparseProductBackward"},
    "PReLU": {"aten::prelu", "PreluKernelBackward0"},
    "casts": {"aten::to", "aten::_to_copy", "ToCopyBackward0"},
    "readouts": {"aten::index_add", "IndexAddBackward0"},
    "Adam": {"Optimizer.step#Adam.step"},
    "collation": {"enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__"},
}


def _part(event) -> str:
    """The part of the epoch a profiled event's own time counts in."""
    parts, node = [], event
    while node is not None:
        parts += [part for part, names in PARTS.items() if node.name in names]
        node = node.cpu_parent
    if "neighbour sums" in parts:
        return "neighbour sums"
    return parts[0] if parts else "other"


def profile_epoch(model: MVGRL, dataset, precision: str) -> dict[str, float]:
    """Fractions of one profiled training epoch, by part (:data:`PARTS`)."""
    sampler = UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train(model, dataset, sampler, epochs=1, lr=LR, device="cpu", seed=0,
              progress=False, precision=precision)
    seconds: Counter[str] = Counter()
    for event in prof.profiler.function_events:
        seconds[_part(event)] += event.self_cpu_time_total / 1e6
    total = sum(seconds.values())
    return {part: value / total for part, value in seconds.most_common()}


def epoch_against_floor(dataset, name: str, epochs: int, repeats: int,
                        precision: str = "bf16", **model_kwargs) -> dict:
    """The floor, the timed epochs in ``precision`` (``fp32`` or ``bf16``) and the profile of
    ``dataset`` (an :class:`~graphsampler.data.IndexedDataset` of MVGRL-ready graphs);
    ``model_kwargs`` go to :class:`MVGRL` (the defaults: MVGRL's width and depth)."""
    torch.manual_seed(0)
    model = MVGRL(dataset[0].num_features, **model_kwargs)
    batches = list(UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0))
    flops = our_epoch_flops(copy.deepcopy(model), dataset, batches)
    nodes = sum(int(dataset[i].num_nodes) for i in range(len(dataset)))
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    gflops = gemm_gflops(round(nodes / len(batches)), dtype, repeats)
    floor = flops / 1e9 / gflops
    sampler = UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0)
    history = train(copy.deepcopy(model), dataset, sampler, epochs=1 + epochs, lr=LR,
                    device="cpu", seed=0, progress=False, precision=precision).history
    seconds = [h["seconds"] for h in history[1:]]
    mean = statistics.mean(seconds)
    return {"dataset": name, "precision": precision, "graphs": len(dataset),
            "nodes": nodes, "batches": len(batches), "gflop": flops / 1e9,
            "gemm_gflops": gflops,
            "floor_seconds": floor, "epoch_seconds": seconds,
            "warmup_seconds": history[0]["seconds"], "epoch_seconds_mean": mean,
            "ratio": mean / floor, "within_target": mean / floor <= TARGET_RATIO,
            "profile_fractions": profile_epoch(model, dataset, precision)}


def markdown(result: dict) -> list[str]:
    rows = result["datasets"]
    lines = [f"# MVGRL epoch against its FLOP floor ({result['device']}, commit "
             f"{result['commit'][:12]})", "",
             f"One process, {result['threads']} thread(s). Floor: the epoch's dense-product "
             f"FLOPs at the throughput of a batch-sized `[N, 512] x [512, 512]` product "
             f"in the epoch's precision (median of {result['repeats']}). Epoch: "
             f"`train(precision=...)`, uniform batches of {BATCH_SIZE}, "
             f"mean of {result['epochs']} timed epochs "
             f"after a warm-up.", "",
             "| dataset | precision | GFLOP | GEMM (GFLOP/s) | floor (s) | epoch (s) | "
             f"epoch / floor | within {TARGET_RATIO}x |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} ({r['nodes']:,} nodes, {r['batches']} batches) | "
                     f"{r['precision']} | {r['gflop']:.1f} | {r['gemm_gflops']:.1f} | "
                     f"{r['floor_seconds']:.3f} | "
                     f"{r['epoch_seconds_mean']:.3f} | {r['ratio']:.2f}x | "
                     f"{'yes' if r['within_target'] else 'no'} |")
    parts = list(dict.fromkeys(p for r in rows for p in r["profile_fractions"]))
    lines += ["", "Where a profiled epoch spends its time (fractions of the profiled "
              "total):", "", "| dataset | precision | " + " | ".join(parts) + " |",
              "|---" * (len(parts) + 2) + "|"]
    for r in rows:
        cells = [f"{r['profile_fractions'].get(p, 0.0):.1%}" for p in parts]
        lines.append(f"| {r['dataset']} | {r['precision']} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="MUTAG only, 2 timed epochs")
    parser.add_argument("--datasets", default="MUTAG,IMDB-BINARY")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per dataset")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    epochs = 2 if args.quick else args.epochs
    result = {**provenance("cpu"), "repeats": args.repeats, "epochs": epochs,
              "target_ratio": TARGET_RATIO, "datasets": []}
    for name in ["MUTAG"] if args.quick else args.datasets.split(","):
        dataset = IndexedDataset(load_mvgrl_dataset(name, progress=False))
        for precision in args.precisions.split(","):
            row = epoch_against_floor(dataset, name, epochs, args.repeats, precision)
            result["datasets"].append(row)
            print(json.dumps({k: row[k] for k in ("dataset", "precision", "floor_seconds",
                                                  "epoch_seconds_mean", "ratio")}),
                  flush=True)
    write_results(args.out, "mvgrl_epoch_quick" if args.quick else "mvgrl_epoch", result,
                  markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
