r"""Proximity sampler speed, memory and hardness against the published algorithm.

For each N: the proximity-graph build plus one epoch of batches, ours (chunked GEMM
graph build + vectorised random walks) against a slow reference of the published
BatchSampler code written here (per anchor: gather M random candidates, score, top-k;
per batch: a Python-loop random walk with restart from an instance not yet covered),
both run in this process on the same embeddings. Then the hardness of the batches on
clustered embeddings (same-cluster pair fraction, mean in-batch cosine), ours vs the
reference vs uniform batches, over several seeds; and, in a child process, the peak
memory of our graph build and of a whole sampler epoch (bank, build, walks).

    python benchmarks/sampler_speed.py            # N = 5,000 and 100,000 (the reference
                                                  # takes ~10 minutes at 100,000)
    python benchmarks/sampler_speed.py --quick    # N = 5,000 only
    python benchmarks/sampler_speed.py --sizes 1000000 --no-reference

Writes benchmarks/results/sampler_speed_<sizes>.json and .md (or --out DIR).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from _helpers import (
    MIB,
    RESULTS,
    peak_bytes,
    provenance,
    reset_peak,
    rss_bytes,
    run_in_child,
    write_results,
)

from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler

D, M, K, B, ALPHA = 128, 1000, 100, 256, 0.2


def reference_graph(emb: torch.Tensor, m: int, k: int, seed: int) -> list[list[int]]:
    """The published build_graph, one anchor at a time (candidates with replacement)."""
    gen = torch.Generator().manual_seed(seed)
    e = F.normalize(emb, dim=1)
    n = e.size(0)
    adj = []
    for i in range(n):
        cand = torch.randint(0, n, (m,), generator=gen)
        scores = e[cand] @ e[i]
        adj.append(cand[scores.topk(k).indices].tolist())
    return adj


def reference_epoch(adj: list[list[int]], batch_size: int, alpha: float, num_batches: int,
                    seed: int) -> list[list[int]]:
    """The published random_walk + generate_indices: a Python loop per step and batch."""
    rng = random.Random(seed)
    n = len(adj)
    covered: set[int] = set()
    batches = []
    for _ in range(num_batches):
        remaining = list(set(range(n)) - covered)
        start = rng.choice(remaining) if remaining else rng.randrange(n)
        walk, cur = {start}, start
        while len(walk) < batch_size:
            cur = start if rng.random() < alpha else rng.choice(adj[cur])
            walk.add(cur)
        covered |= walk
        batches.append(list(walk))
    return batches


def ours_epoch(emb: torch.Tensor, seed: int) -> tuple[list[list[int]], ProximityBatchSampler]:
    sampler = ProximityBatchSampler(emb.size(0), B, num_candidates=M, num_neighbors=K,
                                    restart_prob=ALPHA, warmup_epochs=0, seed=seed)
    sampler.update(torch.arange(emb.size(0)), emb)
    return list(sampler), sampler


def hardness(batches: list[list[int]], emb: torch.Tensor, labels: torch.Tensor) -> dict:
    e = F.normalize(emb, dim=1)
    same, cos = [], []
    for b in batches:
        idx = torch.tensor(b)
        off = ~torch.eye(len(b), dtype=torch.bool)
        same.append((labels[idx][:, None] == labels[idx][None])[off].float().mean().item())
        cos.append((e[idx] @ e[idx].T)[off].mean().item())
    return {"same_cluster": statistics.mean(same), "mean_cos": statistics.mean(cos)}


def clustered(n: int, clusters: int, noise: float, seed: int):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(clusters, D, generator=gen)
    labels = torch.randint(clusters, (n,), generator=gen)
    return centers[labels] + noise * torch.randn(n, D, generator=gen), labels


def build_peak_memory(n: int) -> dict:
    r"""Time and peak memory of the graph build, then of the whole sampler, on ``n``
    random embeddings; run in a child process (:func:`run_in_child`)."""
    from graphsampler.samplers import build_proximity_graph
    emb = torch.randn(n, D)
    before = rss_bytes()
    tic = time.perf_counter()
    table = build_proximity_graph(emb, K, M)
    out = {"seconds": time.perf_counter() - tic,
           "peak_above_inputs_mib": (peak_bytes() - before) / MIB,
           "embeddings_mib": emb.numel() * 4 / MIB,
           "table_mib": table.numel() * table.element_size() / MIB}
    del table
    # The whole sampler: bank copy, graph build and one epoch of walks, peak reset first.
    if not reset_peak():
        raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
    before = rss_bytes()
    tic = time.perf_counter()
    batches, _ = ours_epoch(emb, seed=0)
    out.update(epoch_seconds=time.perf_counter() - tic,
               epoch_peak_above_inputs_mib=(peak_bytes() - before) / MIB,
               epoch_batches=len(batches))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 5,000 only")
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 5000,100000)")
    parser.add_argument("--no-reference", action="store_true", help="skip the slow reference")
    parser.add_argument("--hardness-seeds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    sizes = [5000] if args.quick else [int(s) for s in (args.sizes or "5000,100000").split(",")]
    torch.manual_seed(0)
    result: dict = {**provenance("cpu"),
                    "settings": {"d": D, "M": M, "k": K, "B": B, "alpha": ALPHA},
                    "speed": [], "memory": [], "hardness": {}}

    for n in sizes:
        emb = torch.randn(n, D)
        tic = time.perf_counter()
        batches, sampler = ours_epoch(emb, seed=0)
        ours = time.perf_counter() - tic
        row = {"N": n, "batches": len(batches), "ours_seconds": ours}
        if not args.no_reference:
            tic = time.perf_counter()
            adj = reference_graph(emb, M, K, seed=0)
            ref_build = time.perf_counter() - tic
            reference_epoch(adj, B, ALPHA, len(batches), seed=0)
            ref = time.perf_counter() - tic
            row.update(reference_seconds=ref, reference_build_seconds=ref_build,
                       speedup=ref / ours)
        result["speed"].append(row)
        print(json.dumps(row), flush=True)
        mem = {"N": n, **run_in_child(build_peak_memory, n)}
        result["memory"].append(mem)
        print(json.dumps(mem), flush=True)

    n, clusters, noise = 10_000, 50, 1.0
    rows: dict[str, list[dict]] = {"uniform": [], "ours": [], "reference": []}
    for seed in range(args.hardness_seeds):
        emb, labels = clustered(n, clusters, noise, seed)
        uniform = UniformBatchSampler(n, B, seed=seed)
        rows["uniform"].append(hardness(list(uniform), emb, labels))
        rows["ours"].append(hardness(ours_epoch(emb, seed)[0], emb, labels))
        if not args.no_reference:
            adj = reference_graph(emb, M, K, seed)
            rows["reference"].append(hardness(reference_epoch(adj, B, ALPHA, len(uniform), seed),
                                              emb, labels))
    summary = {}
    for name, vals in rows.items():
        if vals:
            summary[name] = {key: {"mean": statistics.mean(v[key] for v in vals),
                                   "std": statistics.stdev(v[key] for v in vals)
                                   if len(vals) > 1 else 0.0}
                             for key in ("same_cluster", "mean_cos")}
    base = summary["uniform"]["same_cluster"]["mean"]
    for name in summary:
        summary[name]["same_cluster_vs_uniform"] = summary[name]["same_cluster"]["mean"] / base
    result["hardness"] = {"N": n, "clusters": clusters, "noise": noise,
                          "seeds": args.hardness_seeds, **summary}
    print(json.dumps(result["hardness"]), flush=True)

    stem = "sampler_speed_" + "_".join(f"{n // 1000}k" for n in sizes)
    lines = [f"# Sampler speed ({result['device']}, {result['threads']} threads, "
             f"commit {result['commit'][:12]})", "",
             f"d={D}, M={M}, k={K}, B={B}, alpha={ALPHA}: graph build + one epoch of batches.",
             "", "| N | batches | ours (s) | reference (s) | speed-up |", "|---|---|---|---|---|"]
    for r in result["speed"]:
        ref = f"{r['reference_seconds']:.1f}" if "reference_seconds" in r else "-"
        sp = f"{r['speedup']:.0f}x" if "speedup" in r else "-"
        lines.append(f"| {r['N']:,} | {r['batches']} | {r['ours_seconds']:.2f} | {ref} | {sp} |")
    lines += ["", "Peak memory in a child process, above its inputs: the graph build alone, "
              "then the whole sampler (bank copy, build, one epoch of walks and batches):", "",
              "| N | build (s) | build peak (MiB) | sampler epoch (s) | epoch peak (MiB) | "
              "embeddings (MiB) | table (MiB) |",
              "|---|---|---|---|---|---|---|"]
    for r in result["memory"]:
        lines.append(f"| {r['N']:,} | {r['seconds']:.2f} | {r['peak_above_inputs_mib']:.0f} | "
                     f"{r['epoch_seconds']:.2f} | {r['epoch_peak_above_inputs_mib']:.0f} | "
                     f"{r['embeddings_mib']:.0f} | {r['table_mib']:.0f} |")
    h = result["hardness"]
    lines += ["", f"Hardness on clustered embeddings (N={h['N']:,}, {h['clusters']} clusters, "
              f"noise {h['noise']}, {h['seeds']} seeds):", "",
              "| batches | same-cluster pair fraction | vs uniform | mean in-batch cosine |",
              "|---|---|---|---|"]
    for name in ("uniform", "reference", "ours"):
        if name in h:
            s = h[name]
            lines.append(f"| {name} | {s['same_cluster']['mean']:.4f} +- "
                         f"{s['same_cluster']['std']:.4f}"
                         f" | {s['same_cluster_vs_uniform']:.2f}x | {s['mean_cos']['mean']:.4f} |")
    write_results(args.out, stem, result, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
