r"""The ``graphsampler`` command line: ``train``, ``bench``, ``report``, ``datasets``."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Sequence

from graphsampler.experiment import METHOD_LOSSES, SAMPLERS, RunConfig
from graphsampler.precision import PRECISIONS

DEFAULTS = RunConfig()


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes comma-separated ints like 0,1,2, got {text!r}")
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"--seeds needs at least one int >= 0, got {text!r}")
    return seeds


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    r"""The run flags of ``train`` (defaults: the paper's settings). ``bench`` takes the
    settings from its suite file and shares only :func:`add_device_arguments`."""
    parser.add_argument("--method", choices=list(METHOD_LOSSES), default=DEFAULTS.method)
    parser.add_argument("--loss", default=None,
                        help="infonce|dcl|hcl for graphcl, jsd for mvgrl (default: the first)")
    parser.add_argument("--sampler", choices=SAMPLERS, default=DEFAULTS.sampler)
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--lr", type=float, default=None,
                        help="Adam learning rate (default: the method's, graphcl 0.01, mvgrl 0.001)")
    parser.add_argument("--num-candidates", type=int, default=DEFAULTS.num_candidates,
                        help="M: candidates per instance of the proximity graph")
    parser.add_argument("--num-neighbors", type=int, default=DEFAULTS.num_neighbors,
                        help="k: neighbours kept per instance")
    parser.add_argument("--restart-prob", type=float, default=DEFAULTS.restart_prob,
                        help="alpha: restart probability of the random walk")
    parser.add_argument("--augmentation", default=DEFAULTS.augmentation,
                        help="GraphCL's second view: random2 (default), random3, random4, "
                             "dnodes, pedges, subgraph, mask_nodes")
    parser.add_argument("--precision", choices=PRECISIONS, default=DEFAULTS.precision,
                        help="fp32 (default), or bf16: training steps under bfloat16 "
                             "autocast (faster on GPUs and AVX-512 BF16 CPUs)")
    add_device_arguments(parser)


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    r"""``--device`` and ``--data-root``: where runs compute and find their data."""
    parser.add_argument("--device", default=DEFAULTS.device, help="auto (CUDA if present), cpu, cuda")
    parser.add_argument("--data-root", default=None,
                        help="dataset folder (default: $GRAPHSAMPLER_DATA or ./datasets)")


def _config(args: argparse.Namespace, dataset: str, seed: int, **override) -> RunConfig:
    values = dict(method=args.method, loss=args.loss or METHOD_LOSSES[args.method][0],
                  dataset=dataset, sampler=args.sampler, seed=seed, epochs=args.epochs,
                  batch_size=args.batch_size, lr=args.lr, num_candidates=args.num_candidates,
                  num_neighbors=args.num_neighbors, restart_prob=args.restart_prob,
                  augmentation=args.augmentation, precision=args.precision,
                  device=args.device, data_root=args.data_root)
    values.update(override)
    return RunConfig(**values)


def summary_line(records: Sequence[dict]) -> str:
    r"""``method/loss dataset sampler: mean +- std over seeds (n seeds)``."""
    accs = [r["accuracy_mean"] for r in records]
    std = statistics.stdev(accs) if len(accs) > 1 else 0.0
    r = records[0]
    return (f"{r['method']}/{r['loss']} {r['dataset']} {r['sampler']}: "
            f"{statistics.mean(accs):.2f} +- {std:.2f} over {len(accs)} seed(s)")


def cmd_train(args: argparse.Namespace) -> int:
    from graphsampler.distributed import is_main_process, process_group
    from graphsampler.experiment import run
    from graphsampler.train import resolve_device
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    configs = [_config(args, args.dataset, seed) for seed in args.seeds]  # validates first
    records = []
    with process_group(resolve_device(args.device)):  # under torchrun; else a no-op
        for config in configs:
            record = run(config, progress=not args.quiet and is_main_process())
            if record is None:  # a rank other than 0: rank 0 evaluates and writes
                continue
            with out.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            records.append(record)
            print(f"seed {config.seed}: {record['accuracy_mean']:.2f} +- "
                  f"{record['accuracy_std']:.2f} (train {record['train_seconds']:.1f}s, "
                  f"eval {record['eval_seconds']:.1f}s)", file=sys.stderr)
    if records:
        print(summary_line(records))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from graphsampler.data.manifest import tu_manifest
    rows = tu_manifest()
    print(f"{'name':<15}{'graphs':>8}{'classes':>9}{'avg nodes':>11}{'avg edges':>11}")
    for name, row in rows.items():
        print(f"{name:<15}{row['graphs']:>8}{row['classes']:>9}{row['avg_nodes']:>11.2f}"
              f"{row['avg_edges']:>11.2f}")
    return 0


def _names(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"--datasets takes comma-separated names like "
                                         f"MUTAG,NCI1, got {text!r}")
    return names


def cmd_bench(args: argparse.Namespace) -> int:
    from graphsampler.bench import (REPO_ROOT, checkpoint_path, describe, load_suite, pending,
                                    run_suite)
    suite = load_suite(args.suite, datasets=args.datasets, device=args.device,
                       data_root=args.data_root)
    if args.quick and not suite.scripts:
        raise ValueError(f"--quick shortens the scripts of a suite (speed); suite "
                         f"{suite.name} has none, so drop --quick")
    out = Path(args.out) if args.out else REPO_ROOT / "benchmarks" / "results" / suite.name
    if args.dry_run:
        todo, done = pending(suite, out)
        if suite.configs:
            print(f"suite {suite.name}: {len(suite.configs)} run(s), {done} already in "
                  f"{out / 'results.jsonl'}, {len(todo)} to run")
        for config in todo:
            resume = (" (resumes from its checkpoint)" if checkpoint_path(out, config).exists()
                      else "")
            print(f"  run {describe(config)}, {config.epochs} epochs{resume}")
        for script in suite.scripts:
            state = "" if script.path.is_file() else " (missing: would be skipped)"
            print(f"  script {script.path}{' --quick' if args.quick else ''}{state}")
        return 0
    result = run_suite(suite, out, progress=not args.quiet, quick=args.quick)
    if suite.configs:
        print(f"suite {suite.name}: {len(result.records)} run(s) done now, {result.skipped} "
              f"already done, {len(result.failed)} failed; results in {out / 'results.jsonl'}")
    for config, error in result.failed:
        print(f"  FAILED {describe(config)}: {error}")
    for script, status in result.scripts:
        log = "" if status == "missing" else f" (output in {out / script.path.stem}.log)"
        print(f"script {script.path.name}: {status}{log}")
    if result.report is not None:
        print(f"report: {result.report}")
    return 0 if result.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from graphsampler.report import write_report
    report = write_report(args.dir)
    print(f"wrote {report} and the plots accuracy.png, hardness.png beside it")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphsampler",
        description="Hard mini-batches for graph contrastive learning (BatchSampler, KDD 2023).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train and evaluate one configuration over seeds")
    p.add_argument("--dataset", required=True, help="TU dataset name, e.g. MUTAG")
    p.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated, e.g. 0,1,2")
    p.add_argument("--out", required=True, help="JSONL file; one record per seed is appended")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_run_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("bench", help="run a benchmark suite (resumable), then write its report")
    p.add_argument("--suite", required=True,
                   help="quick, paper, speed, or a path to a suite .toml file")
    p.add_argument("--datasets", type=_names, default=None,
                   help="only these datasets of the suite, comma-separated")
    p.add_argument("--out", default=None,
                   help="results folder (default: benchmarks/results/SUITE in the checkout)")
    p.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    p.add_argument("--quick", action="store_true",
                   help="pass --quick to the suite's scripts (speed suite)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="write DIR/report.md and plots from DIR/results.jsonl")
    p.add_argument("dir", help="a bench results folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("datasets", help="list the supported TU datasets")
    p.set_defaults(func=cmd_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        parser.exit(2, f"graphsampler {args.command}: error: {err}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted; finished runs are saved\n")


if __name__ == "__main__":
    sys.exit(main())
