r"""Where every benchmark script puts its results: ``OUT/STEM.json`` (the full record)
and ``OUT/STEM.md`` (its table), the table also printed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_results(out: str | Path, stem: str, result: dict[str, Any],
                  lines: list[str]) -> None:
    r"""Writes ``result`` as ``out/stem.json`` first, then ``lines`` as ``out/stem.md``,
    creating ``out``, and prints the lines."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
