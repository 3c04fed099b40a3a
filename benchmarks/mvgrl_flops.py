r"""How fast can an MVGRL epoch be on this machine? Its FLOPs against the matrix-product
throughput of one thread, for ours and for the original's padded way.

1. FLOPs: one whole epoch (every batch, forward and backward) counted by
   :class:`torch.utils.flop_counter.FlopCounterMode` (dense products: ``mm``,
   ``addmm``, ``bmm``; the sparse neighbour sums are not counted, so the figure is a
   lower bound), for our MVGRL and for ``PaddedMVGRL`` of ``mvgrl_speed.py`` (every
   graph padded to the largest, its GCN layers' gradients computed though never
   applied, as the original's).
2. Throughput: the product of a batch-sized ``[N, 512] x [512, 512]`` in float32 and in
   bfloat16, timed on ``--threads`` threads (median of ``--repeats``).
3. The floor of an epoch: its FLOPs at that throughput, and the largest speed-up over
   the original that it allows, next to the issue's 10x.

    python benchmarks/mvgrl_flops.py                  # MUTAG and IMDB-BINARY
    python benchmarks/mvgrl_flops.py --quick          # MUTAG

Needs the datasets (GRAPHSAMPLER_TU_MIRROR or a download). Writes
benchmarks/results/mvgrl_flops.json and .md (``mvgrl_flops_quick.*`` with --quick; or
--out DIR).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
from _helpers import RESULTS, provenance, write_results
from _mvgrl_baselines import (  # the padded model and loss, and the quoted original figures
    BATCH_SIZE,
    QUOTED_EPOCH_SECONDS,
    PaddedMVGRL,
    padded_views,
)
from torch.utils.flop_counter import FlopCounterMode
from torch_geometric.data import Batch

from graphsampler.data import IndexedDataset
from graphsampler.data.prepare import load_mvgrl_dataset
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.samplers import UniformBatchSampler

TARGET_SPEEDUP = 10.0  # issue 4


def our_epoch_flops(model: MVGRL, dataset, batches: list[list[int]]) -> int:
    """Counted FLOPs of one epoch of ``model`` over ``batches`` (lists of indices into
    ``dataset``), every training step forward and backward."""
    with FlopCounterMode(display=False) as counter:
        for indices in batches:
            loss, _ = model.training_step(Batch.from_data_list([dataset[i] for i in indices]))
            loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def epoch_flops(name: str) -> dict:
    """Counted FLOPs of one epoch, ours and the padded way."""
    dataset = IndexedDataset(load_mvgrl_dataset(name, progress=False))
    torch.manual_seed(0)
    ours = MVGRL(dataset.num_features)
    padded_model, padded = PaddedMVGRL(ours), padded_views(dataset)
    batches = list(UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0))
    counts = {"ours": our_epoch_flops(ours, dataset, batches)}
    with FlopCounterMode(display=False) as counter:
        for indices in batches:
            padded_model.loss(padded, torch.tensor(indices)).backward()
    counts["padded"] = counter.get_total_flops()
    nodes = int(padded["sizes"].sum())
    return {"dataset": name, "graphs": len(dataset), "nodes": nodes,
            "padded_rows": len(dataset) * padded["max_nodes"], "batches": len(batches),
            "ours_gflop": counts["ours"] / 1e9, "padded_gflop": counts["padded"] / 1e9,
            "mean_batch_nodes": nodes / len(batches)}


def gemm_gflops(rows: int, dtype: torch.dtype, repeats: int) -> float:
    """Throughput of ``[rows, 512] @ [512, 512]`` in ``dtype``, GFLOP/s (median)."""
    a, w = torch.randn(rows, 512, dtype=dtype), torch.randn(512, 512, dtype=dtype)
    for _ in range(3):
        a @ w
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        a @ w
        times.append(time.perf_counter() - tic)
    return 2 * rows * 512 * 512 / statistics.median(times) / 1e9


def markdown(result: dict) -> list[str]:
    lines = [f"# MVGRL epoch FLOPs and the floor they set ({result['device']}, commit "
             f"{result['commit'][:12]})", "",
             "FLOPs counted by `FlopCounterMode` over one whole epoch (dense products, "
             "forward and backward; sparse neighbour sums not counted). Throughput: a "
             "batch-sized `[N, 512] x [512, 512]` product, median of "
             f"{result['repeats']}. Floor: the epoch's FLOPs at the bfloat16 throughput, "
             "everything else free.", "",
             "| dataset | ours (GFLOP) | original's padded way (GFLOP) | float32 / "
             "bfloat16 GEMM (GFLOP/s) | floor of our epoch in bf16 (s) | original, "
             "quoted (s) | largest speed-up the floor allows | issue 4 asks |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["datasets"]:
        lines.append(f"| {r['dataset']} ({r['nodes']:,} nodes, {r['padded_rows']:,} padded "
                     f"rows) | {r['ours_gflop']:.1f} | {r['padded_gflop']:.1f} | "
                     f"{r['fp32_gflops']:.0f} / {r['bf16_gflops']:.0f} | "
                     f"{r['floor_seconds']:.3f} | {r['quoted_original_seconds']} | "
                     f"{r['max_speedup']:.1f}x | {TARGET_SPEEDUP:.0f}x |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="MUTAG only")
    parser.add_argument("--datasets", default="MUTAG,IMDB-BINARY")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {**provenance("cpu"), "repeats": args.repeats, "datasets": []}
    for name in ["MUTAG"] if args.quick else args.datasets.split(","):
        row = epoch_flops(name)
        rows = round(row["mean_batch_nodes"])
        row["fp32_gflops"] = gemm_gflops(rows, torch.float32, args.repeats)
        row["bf16_gflops"] = gemm_gflops(rows, torch.bfloat16, args.repeats)
        row["floor_seconds"] = row["ours_gflop"] / row["bf16_gflops"]
        row["quoted_original_seconds"] = QUOTED_EPOCH_SECONDS[name]
        row["max_speedup"] = QUOTED_EPOCH_SECONDS[name] / row["floor_seconds"]
        result["datasets"].append(row)
        print(json.dumps(row), flush=True)
    write_results(args.out, "mvgrl_flops_quick" if args.quick else "mvgrl_flops", result,
                  markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
