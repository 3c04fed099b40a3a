r"""MVGRL: the training epoch time and memory, and the time and peak memory of the PPR
diffusion over a whole dataset, each against baselines run in this process.

1. Epoch time, on ``--threads`` threads: one warm-up epoch plus ``--epochs`` timed
   epochs per model, uniform batches of 128, lr 0.001, RSS after every epoch (memory
   flat: after the first against after the last) and the peak during the timed
   epochs. Models, all from the same initial weights, over the same data:

   * ours, :func:`graphsampler.train.train` in float32 (``precision="fp32"``);
   * ours in bfloat16 autocast (``precision="bf16"``, :mod:`graphsampler.precision`);
   * PyG: the same model with its two GCN encoders built from PyG's
     :class:`~torch_geometric.nn.GCNConv` (a message per edge gathered and scattered,
     the normalisation recomputed by every layer) instead of our ``GCNLayer`` +
     ``Adjacency`` (one CSR matrix per batch), float32;
   * the original's way (``PaddedMVGRL``, written here from a reading of
     kavehhassani/mvgrl ``graph/train.py``, not its code): every graph padded to the
     dataset's largest as dense float32 matrices (the normalised adjacency and the
     diffusion), GCN layers as ``Linear`` then ``bmm``, graph sums that include the
     padding rows, the JSD masks filled one entry at a time in Python loops, and the
     GCN layers kept out of the optimiser (a plain list, as the original: their
     gradients are still computed, only never applied). Its diffusion matrices are our
     top-32 ones made dense: the products cost what the original's full matrices cost.
     It does not reproduce the original's memory growth (its ``epoch_loss += loss``
     keeps every batch's graph alive), so its time is if anything below the original's.

   Before timing, the outputs of every baseline and of ours agree on a batch (1e-4;
   the padded model at initialisation, where its padding rows are zero). The issue's
   figures for the original code (1.6 s per MUTAG epoch, 42 s per IMDB-BINARY epoch,
   one thread, growing to 7.5 GB) are printed beside ours, quoted, not measured here.
2. Diffusion. :func:`graphsampler.augment.diffusion.add_diffusion` as
   :func:`~graphsampler.data.prepare.load_mvgrl_dataset` calls it (alpha 0.2, top-32
   per row) over every graph of a dataset, in a child process (spawn) whose cache
   folder is a fresh temporary one, so the diffusion is computed, never loaded: wall
   time, and peak RSS above the loaded dataset (``VmHWM`` reset through
   ``/proc/self/clear_refs`` once the dataset is loaded). Baselines, graph by graph
   over the same graphs, in this process, on the same number of BLAS threads as ours
   (``--threads``): the steps of MVGRL's ``compute_ppr`` (``utils.py``; rewritten
   here: ``networkx.to_numpy_array`` (float64), ``fractional_matrix_power(D, -0.5)``,
   two dense ``np.matmul`` and ``scipy.linalg.inv``), and a lean dense version of the
   same formula (``D^-1/2`` as a vector scaling, one ``inv``), which isolates the cost
   of the dense inverse itself. The memory the reference needs to keep every dense
   matrix is computed, not allocated: the sum of ``n^2 * 8`` bytes (its ``process``
   keeps a float64 matrix per graph) and ``graphs * max_n^2 * 8`` bytes (its ``load``
   pads every matrix to the largest graph). Our sparse output is checked against the
   reference's dense matrix: every entry on graphs of at most 32 nodes (top-32 keeps
   the whole row there), and on a few larger graphs the kept entries and each row's 32
   largest values.

    python benchmarks/mvgrl_speed.py                   # MUTAG and IMDB-BINARY epochs;
                                                       # REDDIT-BINARY diffusion
    python benchmarks/mvgrl_speed.py --quick           # MUTAG only (a few minutes)
    python benchmarks/mvgrl_speed.py --baseline lean   # skip the compute_ppr steps

On REDDIT-BINARY (2,000 graphs up to 3,782 nodes) the ``compute_ppr`` baseline is the
slow part (its ``fractional_matrix_power`` runs an SVD and a Schur-Pade iteration on
every dense degree matrix): 15-20 minutes on one thread, the whole script about 40
minutes (``--baseline lean`` saves most of the diffusion part).

Needs the datasets (GRAPHSAMPLER_TU_MIRROR or a download). Writes
benchmarks/results/mvgrl_speed.json and .md (``mvgrl_speed_quick.*`` with --quick;
or --out DIR).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from _helpers import MIB, RESULTS, EpochMemory, peak_bytes, provenance, write_results
from _mvgrl_baselines import (
    BATCH_SIZE,
    LR,
    QUOTED_EPOCH_SECONDS,
    QUOTED_MEMORY,
    QUOTED_THREADS,
    PaddedMVGRL,
    PyGGCNEncoder,
    padded_training,
    padded_views,
)
from _mvgrl_diffusion import bench_diffusion
from _mvgrl_tables import markdown
from torch_geometric.data import Batch

from graphsampler.data import IndexedDataset
from graphsampler.data.prepare import load_mvgrl_dataset
from graphsampler.methods.mvgrl import MVGRL
from graphsampler.samplers import UniformBatchSampler
from graphsampler.train import resolve_device, train


def check_same_outputs(ours: MVGRL, baseline: MVGRL | PaddedMVGRL, batch: Batch,
                       padded: dict, indices: list[int]) -> float:
    """Asserts that ``baseline`` computes what ours does on ``batch`` (for the padded
    model: the real rows of its local outputs); returns the largest difference."""
    with torch.no_grad():
        a = ours._views(batch)
        if isinstance(baseline, PaddedMVGRL):
            idx = torch.tensor(indices)
            b = baseline.views(padded, idx)
            real = (torch.arange(padded["max_nodes"])[None, :]
                    < padded["sizes"][idx][:, None])
            b = (b[0][real], b[1][real], b[2], b[3])  # graph by graph, as PyG orders nodes
        else:
            b = baseline._views(batch)
    diff = 0.0
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-4)
        diff = max(diff, float((x - y).abs().max()))
    return diff


def timed_training(model: MVGRL, dataset, epochs: int, precision: str,
                   device: torch.device) -> dict:
    memory = EpochMemory(reset_peak_after=0)  # the peak of the timed epochs
    result = train(model, dataset, UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0),
                   epochs=1 + epochs, lr=LR, device=device, seed=0, progress=False,
                   precision=precision, callbacks=[memory])
    rss = [h["rss_mib"] for h in result.history]
    seconds = [h["seconds"] for h in result.history[1:]]
    return {"epoch_seconds": statistics.mean(seconds), "epochs": seconds,
            "warmup_seconds": result.history[0]["seconds"],
            "losses": [h["loss"] for h in result.history],
            "rss_after_epoch_mib": rss, "rss_first_mib": rss[0], "rss_last_mib": rss[-1],
            "rss_growth_mib": rss[-1] - rss[0],
            "peak_timed_epochs_mib": peak_bytes() / MIB if memory.peak_reset else None}


def bench_epochs(name: str, epochs: int, padded_epochs: int, device: torch.device) -> dict:
    dataset = IndexedDataset(load_mvgrl_dataset(name, progress=False))
    torch.manual_seed(0)
    initial = MVGRL(dataset.num_features)
    models = {"ours": copy.deepcopy(initial), "ours_bf16": copy.deepcopy(initial),
              "pyg": copy.deepcopy(initial)}
    models["pyg"].adjacency = PyGGCNEncoder(initial.adjacency)
    models["pyg"].diffusion = PyGGCNEncoder(initial.diffusion)
    padded = padded_views(dataset)
    original = PaddedMVGRL(initial)
    first = list(UniformBatchSampler(len(dataset), BATCH_SIZE, seed=0))[0]
    batch = Batch.from_data_list([dataset[i] for i in first])
    diffs = {"pyg": check_same_outputs(initial, models["pyg"], batch, padded, first),
             "padded": check_same_outputs(initial, original, batch, padded, first)}
    row = {"dataset": name, "graphs": len(dataset), "max_nodes": padded["max_nodes"],
           "nodes": int(padded["sizes"].sum()),
           "batches_per_epoch": len(UniformBatchSampler(len(dataset), BATCH_SIZE)),
           "epochs_timed": epochs, "padded_epochs_timed": padded_epochs,
           "outputs_max_abs_diff": diffs}
    for key, precision in (("ours", "fp32"), ("ours_bf16", "bf16"), ("pyg", "fp32")):
        run = timed_training(models[key], dataset, epochs, precision, device)
        row.update({f"{key}_{k}": v for k, v in run.items()})
        print(json.dumps({name: key, "epoch_seconds": run["epoch_seconds"]}), flush=True)
    run = padded_training(original, padded, padded_epochs, device)
    row.update({f"padded_{k}": v for k, v in run.items()})
    for key in ("ours_bf16", "pyg", "padded"):
        row[f"{key}_over_ours"] = row[f"{key}_epoch_seconds"] / row["ours_epoch_seconds"]
    row["padded_over_ours_bf16"] = row["padded_epoch_seconds"] / row["ours_bf16_epoch_seconds"]
    if name in QUOTED_EPOCH_SECONDS:
        quoted = QUOTED_EPOCH_SECONDS[name]
        row["quoted_original_epoch_seconds"] = quoted
        row["quoted_over_ours"] = quoted / row["ours_epoch_seconds"]
        row["quoted_over_ours_bf16"] = quoted / row["ours_bf16_epoch_seconds"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="MUTAG only (epochs and diffusion), 3 timed epochs")
    parser.add_argument("--datasets", default="MUTAG,IMDB-BINARY",
                        help="comma-separated datasets of the epoch benchmark")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per model")
    parser.add_argument("--padded-epochs", type=int, default=2,
                        help="timed epochs of the padded model (the original's way)")
    parser.add_argument("--diffusion-dataset", default="REDDIT-BINARY")
    parser.add_argument("--baseline", choices=("both", "reference", "lean"), default="both",
                        help="diffusion baseline(s): the steps of MVGRL's compute_ppr, the "
                             "lean dense formula, or both")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads, and BLAS threads of the diffusion baselines")
    parser.add_argument("--device", default="cpu",
                        help="where the epochs run (cpu, cuda); the diffusion runs on the CPU")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = ["MUTAG"] if args.quick else args.datasets.split(",")
    epochs = 3 if args.quick else args.epochs
    padded_epochs = 1 if args.quick else args.padded_epochs
    diffusion_name = "MUTAG" if args.quick else args.diffusion_dataset
    baselines = ["reference", "lean"] if args.baseline == "both" else [args.baseline]
    device = resolve_device(args.device)
    result: dict = {**provenance(device),
                    "settings": {"batch_size": BATCH_SIZE, "lr": LR, "epochs_timed": epochs,
                                 "padded_epochs_timed": padded_epochs,
                                 "baselines": baselines},
                    "quoted_from_issue_4_not_measured": {
                        "original_epoch_seconds": QUOTED_EPOCH_SECONDS,
                        "threads": QUOTED_THREADS, "memory": QUOTED_MEMORY}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "mvgrl_speed_quick" if args.quick else "mvgrl_speed"
    partial = out / f"{stem}.partial.json"  # every finished part, kept if interrupted
    tic = time.perf_counter()
    result["epochs"] = []
    for name in names:
        row = bench_epochs(name, epochs, padded_epochs, device)
        result["epochs"].append(row)
        print(json.dumps(row), flush=True)
        partial.write_text(json.dumps(result, indent=2) + "\n")
    result["diffusion"] = bench_diffusion(diffusion_name, baselines, args.threads)
    print(json.dumps({"diffusion": result["diffusion"]}), flush=True)
    result["total_seconds"] = time.perf_counter() - tic

    write_results(out, stem, result, markdown(result))
    partial.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
