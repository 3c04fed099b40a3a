r"""Times the command line's start: ``graphsampler --help`` and the refusal of a bad
argument, against ``python -c pass`` (the interpreter's own start) in the same process.

Each command runs as a fresh subprocess (``sys.executable``, this checkout first on
``PYTHONPATH``), ``--repeats`` times, the three interleaved so that a change in the
machine's load hits them alike; the table gives the median and the fastest wall-clock
seconds. The parser builds without torch or PyG (:mod:`graphsampler.bench.names`), so
``--help`` and an argument refused by the parser cost little more than the interpreter.

Usage::

    python benchmarks/cli_startup.py              # writes results/cli_startup.{json,md}
    python benchmarks/cli_startup.py --quick      # 3 repeats, prints only
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _helpers import RESULTS, provenance, write_results

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "graphsampler --help": ["-m", "graphsampler", "--help"],
    "graphsampler train --help": ["-m", "graphsampler", "train", "--help"],
    "refused: train --sampler nope": ["-m", "graphsampler", "train", "--dataset", "MUTAG",
                                      "--out", "x.jsonl", "--sampler", "nope"],
    "refused: train --epochs 0": ["-m", "graphsampler", "train", "--dataset", "MUTAG",
                                  "--out", "x.jsonl", "--epochs", "0"],
}


def time_command(args: list[str]) -> float:
    r"""Wall-clock seconds of one ``python ARGS`` run from this checkout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, cwd=REPO)
    seconds = time.perf_counter() - tic
    if done.returncode not in (0, 2):
        raise RuntimeError(f"{args} failed: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 repeats, print only")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, command in COMMANDS.items():
            times[name].append(time_command(command))
    base = statistics.median(times["python -c pass"])
    rows = [{"command": name, "median_s": statistics.median(t), "min_s": min(t),
             "over_python_s": statistics.median(t) - base, "runs": t}
            for name, t in times.items()]
    result = {**provenance("cpu"), "python": sys.version.split()[0], "repeats": repeats,
              "rows": rows}
    lines = [f"# Command-line start ({repeats} runs each, interleaved)", "",
             f"Device {result['device']}, commit {result['commit']}, Python "
             f"{result['python']}, load average {result['load_average_1min']:.2f} (a "
             "shared machine: compare the rows with each other, not across runs).", "",
             "| command | median s | fastest s | median over `python -c pass` s |",
             "| --- | ---: | ---: | ---: |"]
    lines += [f"| `{r['command']}` | {r['median_s']:.3f} | {r['min_s']:.3f} | "
              f"{r['over_python_s']:.3f} |" for r in rows]
    if args.quick:
        print("\n".join(lines))
    else:
        write_results(RESULTS, "cli_startup", result, lines)


if __name__ == "__main__":
    main()
