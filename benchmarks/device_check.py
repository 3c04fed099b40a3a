r"""The first GPU check: one command that runs, on a CUDA machine, within 8 minutes:

==============  ======  ==========================================================
part            budget  what
==============  ======  ==========================================================
cuda_tests       75 s   ``pytest -m cuda``: the tests that need a CUDA device
sampler_1m       60 s   the proximity sampler at N = 1M on the GPU (graph build and
                        one epoch) against its floor: the same GEMM + top-k on the
                        GPU (each row scored against M shared candidates)
mvgrl_bf16       90 s   the MVGRL epoch on MUTAG in float32 and bfloat16 on the GPU
                        against its floor (``mvgrl_epoch.py --precisions fp32,bf16``:
                        the epoch's dense-product FLOPs at the GPU's GEMM rate)
quick_suite     150 s   ``graphsampler bench --suite quick --device cuda`` (8 runs)
svm_linear       45 s   the linear SVM protocol (``svm_speed.py``'s 1,500 x 512, 3
                        classes) solved on the GPU against the CPU, same folds
==============  ======  ==========================================================

Each part runs in its own process under a timeout of its budget (its process group is
killed when it runs over), so one slow part cannot eat the others; each writes
``PART.json`` and ``PART.md`` into the folder given, device name and commit in each, and
the whole check writes ``device_check.json`` and ``device_check.md`` (every part's
status, seconds and headline).

    python benchmarks/device_check.py runs/device           # on a CUDA machine
    python benchmarks/device_check.py runs/device --dry-run # anywhere: lists the parts,
                                                            # runs two tiny ones on CPU

The MVGRL part and the quick suite read MUTAG and IMDB-BINARY from ``$GRAPHSAMPLER_DATA``
or ``./datasets`` (the device machine reaches no network: carry ``datasets``). A device
run returns at most 8 files: archive the folder (``tar czf $OUT/check.tgz runs/device``).
Without CUDA and without ``--dry-run`` it exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from _helpers import provenance, write_results

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = {"cuda_tests": 75, "sampler_1m": 60, "mvgrl_bf16": 90, "quick_suite": 150,
           "svm_linear": 45}
TOTAL_BUDGET = 480  # seconds: the 8 minutes
WHAT = {"cuda_tests": "pytest -m cuda tests",
        "sampler_1m": "proximity graph build + one epoch at N = 1M vs GEMM + top-k",
        "mvgrl_bf16": "MVGRL epoch on MUTAG, fp32 and bf16, vs its FLOP floor",
        "quick_suite": "graphsampler bench --suite quick --device cuda",
        "svm_linear": "linear svm_cv on the GPU vs the CPU, 1,500 x 512"}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn: Callable[[], Any], device: str) -> tuple[Any, float]:
    _sync(device)
    tic = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - tic


def _header(title: str, prov: dict[str, Any]) -> list[str]:
    return [f"# {title} ({prov['device']}, commit {prov['commit'][:12]})", ""]


def cuda_tests(out: Path, device: str) -> dict[str, Any]:
    r"""``pytest -m cuda`` with a JUnit report, summarised."""
    xml = out / "cuda_tests.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q",
                           "-p", "no:cacheprovider", f"--junitxml={xml}", "tests"],
                          cwd=ROOT, capture_output=True, text=True)
    suite = ET.parse(xml).getroot() if xml.exists() else None
    suite = suite.find("testsuite") if suite is not None and suite.tag == "testsuites" \
        else suite
    counts = {k: int(suite.get(k, 0)) if suite is not None else 0
              for k in ("tests", "failures", "errors", "skipped")}
    failed = [f"{c.get('classname')}::{c.get('name')}" for c in
              (suite.iter("testcase") if suite is not None else [])
              if c.find("failure") is not None or c.find("error") is not None]
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {"returncode": proc.returncode, **counts, "passed": passed, "failed": failed,
            "output_tail": proc.stdout[-3000:],
            "headline": f"{passed} passed, {len(failed)} failed, {counts['skipped']} "
                        f"skipped of {counts['tests']}"}


def gemm_topk_floor(emb: torch.Tensor, m: int, k: int, device: str,
                    chunk: int = 65_536) -> float:
    r"""Seconds to score every row against ``m`` shared random candidates (one GEMM per
    chunk of rows) and keep the top ``k``: the work of a proximity-graph build without
    its per-row candidate gathers."""
    e = torch.nn.functional.normalize(emb, dim=1)
    cand = e[torch.randperm(len(e), device=e.device)[:m]]

    def run() -> None:
        for start in range(0, len(e), chunk):
            (e[start:start + chunk] @ cand.T).topk(k, dim=1)

    run()  # warm-up: kernels and allocator
    return _timed(run, device)[1]


def sampler_1m(out: Path, device: str, n: int = 1_000_000) -> dict[str, Any]:
    r"""Our graph build and one epoch at ``n`` against :func:`gemm_topk_floor`."""
    import sampler_speed as ss

    from graphsampler.samplers import build_proximity_graph

    emb = torch.randn(n, ss.D, device=device)
    floor = gemm_topk_floor(emb, ss.M, ss.K, device)
    build_proximity_graph(emb[: min(n, 20_000)], ss.K, ss.M)  # warm-up
    _, build = _timed(lambda: build_proximity_graph(emb, ss.K, ss.M), device)
    (batches, _), epoch = _timed(lambda: ss.ours_epoch(emb, seed=0), device)
    return {"N": n, "d": ss.D, "M": ss.M, "k": ss.K, "B": ss.B, "floor_seconds": floor,
            "build_seconds": build, "epoch_seconds": epoch, "batches": len(batches),
            "build_over_floor": build / floor,
            "headline": f"N = {n:,}: build {build:.2f} s, build + epoch {epoch:.2f} s, "
                        f"floor {floor:.3f} s ({build / floor:.1f}x)"}


def mvgrl_bf16(out: Path, device: str, dataset: str = "MUTAG",
               epochs: int = 3) -> dict[str, Any]:
    r"""``mvgrl_epoch.py``'s epoch against its floor, on ``device``."""
    import copy

    import mvgrl_epoch as me
    from mvgrl_flops import our_epoch_flops

    data = me.IndexedDataset(me.load_mvgrl_dataset(dataset, progress=False))
    rows = []
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = me.MVGRL(data[0].num_features)
        batches = list(me.UniformBatchSampler(len(data), me.BATCH_SIZE, seed=0))
        flops = our_epoch_flops(copy.deepcopy(model), data, batches)
        nodes = sum(int(data[i].num_nodes) for i in range(len(data)))
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        a = torch.randn(round(nodes / len(batches)), 512, dtype=dtype, device=device)
        w = torch.randn(512, 512, dtype=dtype, device=device)
        a @ w
        _, seconds = _timed(lambda: [a @ w for _ in range(50)], device)
        gflops = 2 * a.shape[0] * 512 * 512 * 50 / seconds / 1e9
        history = me.train(copy.deepcopy(model), data,
                           me.UniformBatchSampler(len(data), me.BATCH_SIZE, seed=0),
                           epochs=1 + epochs, lr=me.LR, device=device, seed=0,
                           progress=False, precision=precision).history
        mean = sum(h["seconds"] for h in history[1:]) / epochs
        floor = flops / 1e9 / gflops
        rows.append({"dataset": dataset, "precision": precision, "gflop": flops / 1e9,
                     "gemm_gflops": gflops, "floor_seconds": floor,
                     "epoch_seconds_mean": mean, "ratio": mean / floor})
    return {"rows": rows, "headline": "; ".join(
        f"{r['precision']} epoch {r['epoch_seconds_mean']:.3f} s = {r['ratio']:.1f}x floor"
        for r in rows)}


def quick_suite(out: Path, device: str) -> dict[str, Any]:
    r"""The quick suite on ``device``, its records summarised."""
    folder = out / "quick_suite"
    proc = subprocess.run([sys.executable, "-m", "graphsampler", "bench", "--suite", "quick",
                           "--device", device, "--out", str(folder), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True)
    records = []
    if (folder / "results.jsonl").exists():
        records = [json.loads(line) for line in (folder / "results.jsonl").open()]
    runs = [{k: r.get(k) for k in ("dataset", "sampler", "seed", "accuracy_mean",
                                   "train_seconds", "eval_seconds", "device")}
            for r in records]
    train_s = sum(r["train_seconds"] for r in runs)
    return {"returncode": proc.returncode, "runs": runs, "output_tail": proc.stderr[-3000:],
            "headline": f"{len(runs)} of 8 runs, training {train_s:.1f} s in all"}


def svm_linear(out: Path, device: str, case: str = "linear-imdb-multi") -> dict[str, Any]:
    r"""The fast linear solver on ``device`` against the CPU, on the same folds."""
    import svm_speed

    from graphsampler.eval import svm_cv

    _, rows, width, weights, copies = svm_speed.CASES[case]
    x, y = svm_speed.make_embeddings(rows, width, weights, 0, copies)
    results = {}
    for where in dict.fromkeys([device, "cpu"]):
        xt = torch.as_tensor(x, device=where)
        svm_cv(xt[:200], y[:200], "linear", 0, folds=2, inner_folds=2)  # warm-up
        res, seconds = _timed(lambda: svm_cv(xt, y, "linear", 0), where)
        results[where] = {"seconds": seconds, "mean": res.mean,
                          "fold_accuracies": list(res.fold_accuracies),
                          "best_c": list(res.best_c)}
    same = len({json.dumps(r["fold_accuracies"]) for r in results.values()}) == 1
    speed = results["cpu"]["seconds"] / results[device]["seconds"]
    return {"case": case, "results": results, "same_folds": same,
            "headline": f"{case}: {device} {results[device]['seconds']:.2f} s, cpu "
                        f"{results['cpu']['seconds']:.2f} s ({speed:.1f}x), same fold "
                        f"accuracies: {same}"}


PARTS: dict[str, Callable[..., dict[str, Any]]] = {
    "cuda_tests": cuda_tests, "sampler_1m": sampler_1m, "mvgrl_bf16": mvgrl_bf16,
    "quick_suite": quick_suite, "svm_linear": svm_linear}


def run_part(name: str, out: Path, device: str, **kwargs: Any) -> dict[str, Any]:
    r"""Runs one part in this process; writes ``PART.json`` and ``PART.md``."""
    prov = provenance(device)
    result = {"part": name, **prov, "budget_seconds": BUDGETS[name],
              **PARTS[name](out, device, **kwargs)}
    lines = _header(f"device check: {name}", prov) + [result["headline"], "", "```json",
                                                      json.dumps(result, indent=1,
                                                                 default=str)[:6000], "```"]
    write_results(out, name, result, lines)
    return result


def run_isolated(name: str, out: Path, device: str, budget: float) -> dict[str, Any]:
    r"""Runs a part in a child process (its own process group) under ``budget``
    seconds; a part over its budget is killed with its children."""
    tic = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, str(out), "--part", name,
                             "--device", device], cwd=ROOT, start_new_session=True)
    try:
        status = "ok" if proc.wait(timeout=budget) == 0 else f"failed (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        status = f"timeout after {budget:.0f} s"
    path = out / f"{name}.json"
    headline = json.loads(path.read_text()).get("headline", "") if path.exists() and \
        status == "ok" else ""
    return {"part": name, "budget_seconds": budget, "status": status,
            "seconds": time.perf_counter() - tic, "headline": headline}


def summary(out: Path, rows: list[dict[str, Any]], device: str, dry_run: bool) -> None:
    prov = provenance(device)
    lines = _header("device check" + (" (dry run: plan only)" if dry_run else ""), prov) + [
        f"Total budget {sum(r['budget_seconds'] for r in rows)} s of {TOTAL_BUDGET} s.", "",
        "| part | what | budget (s) | status | seconds | headline |",
        "|---|---|---|---|---|---|"]
    for r in rows:
        seconds = "–" if r["seconds"] is None else f"{r['seconds']:.1f}"
        lines.append(f"| {r['part']} | {WHAT[r['part']]} | {r['budget_seconds']} "
                     f"| {r['status']} | {seconds} | {r['headline']} |")
    write_results(out, "device_check", {**prov, "dry_run": dry_run, "parts": rows}, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder for the JSON and markdown of every part")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the parts and budgets; run the sampler and SVM parts "
                             "tiny, on CPU")
    parser.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.part:  # a child of run_isolated
        run_part(args.part, out, args.device)
        return 0
    if args.dry_run:
        rows = [{"part": name, "budget_seconds": budget, "status": "planned",
                 "seconds": None, "headline": ""} for name, budget in BUDGETS.items()]
        for row, kwargs in ((rows[1], {"n": 2_000}), (rows[4], {"case": "quick-linear"})):
            tic = time.perf_counter()
            row["headline"] = run_part(row["part"], out, "cpu", **kwargs)["headline"]
            row.update(status="ran tiny on cpu", seconds=time.perf_counter() - tic)
        summary(out, rows, "cpu", dry_run=True)
        return 0
    if not torch.cuda.is_available():
        print("device_check: no CUDA device here; run it on a GPU machine, or pass "
              "--dry-run to list the parts", file=sys.stderr)
        return 2
    rows = [run_isolated(name, out, "cuda", budget) for name, budget in BUDGETS.items()]
    summary(out, rows, "cuda", dry_run=False)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
