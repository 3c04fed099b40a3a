r"""GraphCL epoch time: the proximity sampler's overhead over uniform batches, our
batched augmentations against a per-graph loop as the original GraphCL code runs them,
and our GIN message passing against PyG's gather/scatter ``GINConv``.

For each dataset: GraphCL (InfoNCE) trained by the project's training loop for
``1 + E`` epochs with the uniform sampler and with the proximity sampler (the first
epoch fills the bank; the proximity epochs include their graph build), from the same
initial model; the ratio is the mean proximity epoch over the mean uniform epoch. Then
GraphCL's ``random2`` view (node dropping or subgraph per graph) on the same batches:
ours on the collated batch against a reference that loops over graphs and edges in
Python, as ``unsupervised_TU/aug.py`` does. Last, the GIN encoder's layers, forward and
backward, on the same batches: ours (one CSR matrix per batch, a sparse product per
layer, :class:`graphsampler.nn.adjacency.Adjacency`) against the same weights in PyG's
``GINConv`` (a message per edge gathered and scattered), outputs checked equal.

    python benchmarks/epoch_speed.py                   # IMDB-BINARY and COLLAB
    python benchmarks/epoch_speed.py --quick           # IMDB-BINARY only
    python benchmarks/epoch_speed.py --threads 1

Needs the datasets (GRAPHSAMPLER_TU_MIRROR or a download). Writes
benchmarks/results/epoch_speed.json and .md (or --out DIR).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINConv

from graphsampler.augment import graphcl_augmentation
from graphsampler.data import IndexedDataset, load_tu
from graphsampler.experiment import device_name, git_commit
from graphsampler.methods.graphcl import GraphCL
from graphsampler.nn.gin import GINEncoder
from graphsampler.samplers import ProximityBatchSampler, UniformBatchSampler
from graphsampler.train import train

from _results import write_results



def reference_drop_nodes(data: Data, rng: np.random.Generator, ratio: float = 0.1) -> Data:
    """GraphCL's per-graph node dropping: a Python loop over the edges to re-index."""
    n = data.num_nodes
    drop = int(n * ratio)
    perm = rng.permutation(n)
    dropped, kept = set(perm[:drop].tolist()), perm[drop:]
    new_id = {int(old): new for new, old in enumerate(sorted(kept.tolist()))}
    ei = data.edge_index.tolist()
    edges = [[new_id[a], new_id[b]] for a, b in zip(*ei) if a not in dropped and b not in dropped]
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    return Data(x=data.x[sorted(new_id)], edge_index=edge_index, y=data.y)


def reference_subgraph(data: Data, rng: np.random.Generator, keep: float = 0.2) -> Data:
    """GraphCL's per-graph subgraph: grow a node set by neighbours, in Python."""
    n = data.num_nodes
    target = max(1, int(n * keep))
    ei = data.edge_index.tolist()
    adj: dict[int, list[int]] = {}
    for a, b in zip(*ei):
        adj.setdefault(a, []).append(b)
    sub = {int(rng.integers(n))}
    frontier = set(adj.get(next(iter(sub)), []))
    while len(sub) < target and frontier:
        node = rng.choice(sorted(frontier))
        sub.add(int(node))
        frontier = (frontier | set(adj.get(int(node), []))) - sub
    new_id = {old: new for new, old in enumerate(sorted(sub))}
    edges = [[new_id[a], new_id[b]] for a, b in zip(*ei) if a in sub and b in sub]
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    return Data(x=data.x[sorted(sub)], edge_index=edge_index, y=data.y)


def reference_random2(graphs: list[Data], rng: np.random.Generator) -> Batch:
    views = [reference_drop_nodes(g, rng) if rng.integers(2) == 0 else reference_subgraph(g, rng)
             for g in graphs]
    return Batch.from_data_list(views)


def pyg_node_embeddings(encoder: GINEncoder, x: torch.Tensor,
                        edge_index: torch.Tensor) -> torch.Tensor:
    """The encoder's layers with PyG's GINConv (gather/scatter) around the same MLPs."""
    layers, h = [], x
    for conv, norm in zip(encoder.pyg_convs, encoder.norms):
        h = norm(conv(h, edge_index).relu())
        layers.append(h)
    return torch.cat(layers, dim=1)


def message_passing_seconds(batches: list[Batch], reps: int = 3) -> tuple[float, float]:
    """Forward + backward of GraphCL's GIN over ``batches``: (ours, PyG GINConv)."""
    torch.manual_seed(0)
    encoder = GINEncoder(batches[0].num_features)
    # GINConv's constructor re-initialises the MLP it wraps: wrap before comparing.
    encoder.pyg_convs = torch.nn.ModuleList(GINConv(conv.nn) for conv in encoder.convs)
    for b in batches:  # same computation, before timing either
        torch.testing.assert_close(encoder.node_embeddings(b.x, b.edge_index),
                                   pyg_node_embeddings(encoder, b.x, b.edge_index),
                                   rtol=1e-4, atol=1e-4)

    def timed(embed) -> float:
        tic = time.perf_counter()
        for _ in range(reps):
            for b in batches:
                embed(encoder, b.x, b.edge_index).sum().backward()
        return (time.perf_counter() - tic) / reps

    return timed(GINEncoder.node_embeddings), timed(pyg_node_embeddings)


def epoch_times(dataset, sampler, seed: int, epochs: int) -> tuple[list[float], float, float]:
    """Seconds of each epoch after the first, their mean coverage of the dataset, and the
    seconds the sampler alone takes to plan one more epoch from the trained bank."""
    torch.manual_seed(seed)
    model = GraphCL(dataset.num_features)
    result = train(model, dataset, sampler, epochs=1 + epochs, device="cpu", seed=seed,
                   progress=False)
    timed = result.history[1:]
    alone = []
    for _ in range(3):
        tic = time.perf_counter()
        list(sampler)  # graph build + walks of the next epoch, no training
        alone.append(time.perf_counter() - tic)
    return ([h["seconds"] for h in timed],
            statistics.mean(h["sampler_stats"]["coverage"] for h in timed),
            statistics.median(alone))


def bench_dataset(name: str, epochs: int, aug_batches: int) -> dict:
    dataset = IndexedDataset(load_tu(name, node_features="constant"))
    n = len(dataset)
    uniform, _, uniform_alone = epoch_times(dataset, UniformBatchSampler(n, 128, seed=0), 0,
                                            epochs)
    proximity, coverage, proximity_alone = epoch_times(
        dataset, ProximityBatchSampler(n, 128, seed=0), 0, epochs)
    row = {"dataset": name, "graphs": n, "epochs_timed": epochs,
           "proximity_coverage": coverage, "uniform_sampler_seconds": uniform_alone,
           "proximity_sampler_seconds": proximity_alone,
           "uniform_epoch_seconds": statistics.mean(uniform),
           "proximity_epoch_seconds": statistics.mean(proximity),
           "uniform_epochs": uniform, "proximity_epochs": proximity}
    row["sampler_overhead_ratio"] = row["proximity_epoch_seconds"] / row["uniform_epoch_seconds"]
    # The sampler's own cost added to a uniform epoch: the overhead without the change in
    # which graphs the batches hold.
    row["sampler_cost_ratio"] = 1 + (proximity_alone - uniform_alone) / row["uniform_epoch_seconds"]

    aug = graphcl_augmentation("random2")
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    order = torch.randperm(n, generator=gen)[: aug_batches * 128].split(128)
    lists = [[dataset.dataset[int(i)] for i in idx] for idx in order]
    batches = [Batch.from_data_list(g) for g in lists]
    tic = time.perf_counter()
    for b in batches:
        aug(b, gen)
    ours = time.perf_counter() - tic
    tic = time.perf_counter()
    for g in lists:
        reference_random2(g, rng)
    ref = time.perf_counter() - tic
    row.update(aug_batches=len(batches), aug_ours_seconds=ours, aug_reference_seconds=ref,
               aug_speedup=ref / ours)
    ours, pyg = message_passing_seconds(batches)
    row.update(gin_ours_seconds=ours, gin_pyg_seconds=pyg, gin_speedup=pyg / ours)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="IMDB-BINARY only, 2 epochs")
    parser.add_argument("--datasets", default="IMDB-BINARY,COLLAB")
    parser.add_argument("--epochs", type=int, default=10, help="timed epochs per sampler")
    parser.add_argument("--aug-batches", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = ["IMDB-BINARY"] if args.quick else args.datasets.split(",")
    epochs = 2 if args.quick else args.epochs
    result = {"device": device_name("cpu"), "threads": torch.get_num_threads(),
              "commit": git_commit(), "torch": torch.__version__, "rows": []}
    for name in names:
        row = bench_dataset(name, epochs, args.aug_batches)
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
    stem = "epoch_speed_quick" if args.quick else f"epoch_speed_{result['threads']}t"
    lines = [f"# GraphCL epoch speed ({result['device']}, {result['threads']} threads, "
             f"commit {result['commit'][:12]})", "",
             "| dataset | uniform epoch (s) | proximity epoch (s) | overhead ratio | "
             "proximity coverage | sampler alone: uniform / proximity (s) | cost ratio | "
             "random2: ours (s) | per-graph loop (s) | speed-up | "
             "GIN fwd+bwd: ours (s) | PyG GINConv (s) | speed-up |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['dataset']} | {r['uniform_epoch_seconds']:.2f} | "
                     f"{r['proximity_epoch_seconds']:.2f} | {r['sampler_overhead_ratio']:.3f} | "
                     f"{r['proximity_coverage']:.1%} | {r['uniform_sampler_seconds']:.4f} / "
                     f"{r['proximity_sampler_seconds']:.4f} | {r['sampler_cost_ratio']:.3f} | "
                     f"{r['aug_ours_seconds']:.3f} | {r['aug_reference_seconds']:.2f} | "
                     f"{r['aug_speedup']:.0f}x | {r['gin_ours_seconds']:.3f} | "
                     f"{r['gin_pyg_seconds']:.3f} | {r['gin_speedup']:.1f}x |")
    lines += ["", f"Augmentation and GIN layers timed on {result['rows'][0]['aug_batches']} "
              "batches of 128 graphs; epochs after a first (uniform, bank-filling) epoch. "
              "Coverage: the fraction of the dataset a proximity epoch's batches hold (the "
              "walks repeat instances, as the published algorithm's do; uniform: 100%). "
              "Overhead ratio: mean proximity epoch / mean uniform epoch, which also counts "
              "that proximity batches hold other graphs (on COLLAB, smaller ones). Cost "
              "ratio: 1 + (proximity sampler alone - uniform sampler alone) / uniform "
              "epoch, the sampler's own cost: one epoch planned from the trained bank "
              "(graph build + walks), median of 3."]
    write_results(args.out, stem, result, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
