r"""The ``graphsampler`` command line: ``train``, ``bench``, ``report``, ``datasets``.

Every bad input (an unknown name, an out-of-range number, an output path that cannot be
written) ends in one line on stderr and exit status 2 before any work starts; a record
that was computed is never lost (printed on stdout when its file cannot take it).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import typing
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphsampler.bench.config import RunConfig
from graphsampler.bench.names import LOSSES, METHOD_NAMES, PRECISIONS, SAMPLER_NAMES
from graphsampler.cli_checks import (
    bench_lock,
    check_before_work,
    check_output,
    fetch_unlisted,
    model_paths,
    warn_slow_bf16,
)

#: The choices of the run settings that are names (from a table that imports nothing:
#: the parser builds without torch, so --help and a refused argument are quick).
_CHOICES = {"method": list(METHOD_NAMES), "sampler": list(SAMPLER_NAMES),
            "precision": list(PRECISIONS),
            "loss": list(dict.fromkeys(loss for losses in LOSSES.values() for loss in losses))}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    r"""Shows ``(default: X)`` where a flag has a default and its help names none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    r"""Reports a bad argument in one line (no usage block): ``prog: error: message``."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see --help\n")


def _int_list(flag: str):
    def parse(text: str) -> list[int]:
        parts = text.split(",")
        if not all(p.strip().isdigit() for p in parts):
            raise argparse.ArgumentTypeError(
                f"{flag} takes comma-separated ints >= 0 like 0,1,2, got {text!r}")
        values = [int(p) for p in parts]
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"{flag} repeats a value: {text!r}")
        return values
    return parse


def _names(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"--datasets takes comma-separated names like "
                                         f"MUTAG,NCI1, got {text!r}")
    return names


def _count_or_fraction(text: str) -> int | float:
    r"""An ``int | float`` setting: ``1000`` is a count, ``0.1`` a fraction."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an int (a count) or a float in (0, 1] (a fraction of N), "
                f"got {text!r}") from None


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    r"""One flag per :class:`~graphsampler.bench.RunConfig` setting (``batch_size`` is
    ``--batch-size``), with its type, choices, default and help; ``dataset`` and
    ``seed`` are given by ``train``'s ``--dataset`` and ``--seeds``."""
    hints = typing.get_type_hints(RunConfig)
    for f in dataclasses.fields(RunConfig):
        if f.name in ("dataset", "seed"):
            continue
        kinds = [k for k in typing.get_args(hints[f.name]) or (hints[f.name],)
                 if k is not type(None)]
        if kinds == [bool]:
            parser.add_argument(f"--{f.name.replace('_', '-')}", action="store_true",
                                default=f.default, help=f.metadata["help"])
            continue
        kind = _count_or_fraction if kinds == [int, float] else kinds[0]
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=f.default,
                            choices=_CHOICES.get(f.name), help=f.metadata["help"])


def _configs(args: argparse.Namespace) -> list[RunConfig]:
    fields = [f for f in dataclasses.fields(RunConfig) if f.name not in ("dataset", "seed")]
    values = {f.name: getattr(args, f.name) for f in fields}
    configs = [RunConfig(dataset=args.dataset, seed=seed, **values) for seed in args.seeds]
    given = [f.name for f in fields if values[f.name] != f.default]
    reason = configs[0].inapplicable(given)
    if reason is not None:
        name = reason.split()[0]
        raise ValueError(f"--{name.replace('_', '-')}{reason[len(name):]}")
    return configs


def summary_line(records: Sequence[dict[str, Any]]) -> str:
    r"""``method/loss dataset sampler: mean +- std over seeds (n seeds)``."""
    accs = [r["accuracy_mean"] for r in records]
    r = records[0]
    head = f"{r['method']}/{r['loss']} {r['dataset']} {r['sampler']}: "
    if len(accs) == 1:  # no spread over seeds to show
        return f"{head}{accs[0]:.2f} over 1 seed"
    return (f"{head}{statistics.mean(accs):.2f} +- {statistics.stdev(accs):.2f} "
            f"over {len(accs)} seed(s)")


def cmd_train(args: argparse.Namespace) -> int:
    r"""``graphsampler train``: trains and evaluates the configs, appends their records."""
    configs = _configs(args)  # a refused value costs no import of torch
    from graphsampler.bench import append_record, run
    from graphsampler.distributed import is_main_process, process_group
    from graphsampler.train import resolve_device
    device = resolve_device(args.device)
    out = check_output(Path(args.out), folder=False)
    models = model_paths(args.save_model, args.seeds)
    check_before_work(configs)
    warn_slow_bf16(configs, device)
    records = []
    with bench_lock(out), process_group(device):  # under torchrun; else a no-op
        for config in configs:
            record = run(config, progress=not args.quiet and is_main_process(),
                         device=device,
                         save_model=None if models is None else models[config.seed])
            if record is None:  # a rank other than 0: rank 0 evaluates and writes
                continue
            try:
                append_record(out, record)
            except OSError as err:
                print(json.dumps(record))
                raise ValueError(f"could not write {out} ({err.strerror}); the record of "
                                 f"seed {config.seed} is on stdout") from None
            records.append(record)
            print(f"seed {config.seed}: {record['accuracy_mean']:.2f} +- "
                  f"{record['accuracy_std']:.2f} (train {record['train_seconds']:.1f}s, "
                  f"eval {record['eval_seconds']:.1f}s)", file=sys.stderr)
    if records:
        print(summary_line(records))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    r"""``graphsampler datasets``: the TU datasets with checked statistics."""
    from graphsampler.data.manifest import tu_manifest
    print("TU datasets with checked statistics (train and bench take any TU dataset name):")
    print(f"{'name':<15}{'graphs':>8}{'classes':>9}{'avg nodes':>11}{'avg edges':>11}")
    for name, row in tu_manifest().items():
        print(f"{name:<15}{row['graphs']:>8}{row['classes']:>9}{row['avg_nodes']:>11.2f}"
              f"{row['avg_edges']:>11.2f}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    r"""``graphsampler bench``: runs a suite's pending runs (or lists them)."""
    from graphsampler.bench import load_suite, run_suite
    from graphsampler.bench.queue import checkpoint_path, pending
    from graphsampler.train import resolve_device
    resolve_device(args.device)
    suite = load_suite(args.suite, datasets=args.datasets, device=args.device,
                       data_root=args.data_root)
    if args.quick and not suite.scripts:
        raise ValueError(f"--quick shortens the scripts of a suite (speed); suite "
                         f"{suite.name} has none, so drop --quick")
    out = check_output(Path(args.out or Path("runs") / suite.name), folder=True)
    check_before_work(suite.configs)
    if args.dry_run:
        todo, done = pending(suite, out)
        if suite.configs:
            print(f"suite {suite.name}: {len(suite.configs)} run(s), {done} already in "
                  f"{out / 'results.jsonl'}, {len(todo)} to run")
        for config in todo:
            resume = (" (resumes from its checkpoint)" if checkpoint_path(out, config).exists()
                      else "")
            print(f"  run {config.describe()}, {config.epochs} epochs{resume}")
        for script in suite.scripts:
            state = "" if script.path.is_file() else " (missing: would be skipped)"
            print(f"  script {script.path}{' --quick' if args.quick else ''}{state}")
        return 0
    fetch_unlisted(suite.configs)
    result = run_suite(suite, out, progress=not args.quiet, quick=args.quick)
    if suite.configs:
        print(f"suite {suite.name}: {len(result.records)} run(s) done now, {result.skipped} "
              f"already done, {len(result.failed)} failed; results in {out / 'results.jsonl'}")
    for config, error in result.failed:
        print(f"  FAILED {config.describe()}: {error}")
    for script, status in result.scripts:
        log = "" if status == "missing" else f" (output in {out / script.path.stem}.log)"
        print(f"script {script.path.name}: {status}{log}")
    if result.report is not None:
        print(f"report: {result.report}")
    return 0 if result.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    r"""``graphsampler report``: writes a results folder's report."""
    from graphsampler.bench import write_report
    report = write_report(args.dir)
    print(f"wrote {report} and the plots accuracy.png, hardness.png beside it")
    return 0


def build_parser() -> argparse.ArgumentParser:
    r"""The parser of every subcommand."""
    from graphsampler.bench.suite import suite_names
    parser = _Parser(
        prog="graphsampler",
        description="Hard mini-batches for graph contrastive learning (BatchSampler, KDD 2023).")
    sub = parser.add_subparsers(dest="command", required=True)
    fmt = {"formatter_class": _HelpFormatter}

    p = sub.add_parser("train", help="train and evaluate one configuration over seeds", **fmt)
    p.add_argument("--dataset", required=True, help="TU dataset name, e.g. MUTAG or PTC_MR")
    p.add_argument("--seeds", type=_int_list("--seeds"), default=[0],
                   help="comma-separated, e.g. 0,1,2")
    p.add_argument("--out", required=True, help="JSONL file; one record per seed is appended")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--save-model", default=None, metavar="PATH",
                   help="write each seed's trained model there ({seed} in PATH: its seed), "
                        "read back with graphsampler.load_model(PATH)")
    add_run_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("bench", help="run a benchmark suite (resumable), then write its report",
                       **fmt)
    p.add_argument("--suite", required=True,
                   help=f"{', '.join(suite_names())}, or a path to a suite .toml file")
    p.add_argument("--datasets", type=_names, default=None,
                   help="only these datasets of the suite, comma-separated")
    p.add_argument("--out", default=None, help="results folder (default: ./runs/SUITE)")
    p.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    p.add_argument("--quick", action="store_true",
                   help="pass --quick to the suite's scripts (speed suite)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    for name in ("device", "data_root"):
        f = next(f for f in dataclasses.fields(RunConfig) if f.name == name)
        p.add_argument(f"--{name.replace('_', '-')}", default=f.default, help=f.metadata["help"])
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="write DIR/report.md and plots from DIR/results.jsonl")
    p.add_argument("dir", help="a bench results folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("datasets", help="list the TU datasets with checked statistics")
    p.set_defaults(func=cmd_datasets)
    return parser


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    # A notice for the user, not a developer's warning with its file and line.
    print(f"graphsampler: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    r"""Runs the command line; a bad input exits 2 with one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return args.func(args)
    except BrokenPipeError:  # `graphsampler bench --dry-run | head`: the reader is gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        return 0
    except (ValueError, OSError) as err:
        message = " ".join(str(err).split())
        parser.exit(2, f"graphsampler {args.command}: error: {message}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted; finished runs are saved\n")


if __name__ == "__main__":
    sys.exit(main())
