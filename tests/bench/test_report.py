import gzip
import json
import math
import statistics
from pathlib import Path

import pytest
from synthetic import PNG_MAGIC, table_rows
from synthetic import run_record as record

from graphsampler.bench import (
    paper_results,
    read_results,
    render_report,
    summarize,
    write_report,
)
from graphsampler.bench.plots import plot_accuracy

# Accuracy by seed of each hand-made cell (method graphcl/infonce unless noted).
ACCURACY = {
    ("MUTAG", "uniform"): {0: 85.0, 1: 86.0, 2: 88.0},
    ("MUTAG", "knn"): {0: 80.0},
    ("MUTAG", "proximity"): {0: 87.0, 1: 86.5, 3: 90.0},
    ("IMDB-BINARY", "uniform"): {0: 70.0, 1: 71.0},
    ("IMDB-BINARY", "proximity"): {0: 69.5, 1: 70.0},
}


def hand_made_records() -> list[dict]:
    records = [record("MUTAG", "uniform", 1, 10.0)]  # replaced by the later seed-1 record
    for (dataset, sampler), by_seed in ACCURACY.items():
        for seed, acc in by_seed.items():
            records.append(record(dataset, sampler, seed, acc, last_cos=0.1 * (seed + 1),
                                  device="gpu" if seed == 3 else "cpu (x)"))
    records.append(record("MUTAG", "uniform", 0, 60.0, epochs=5))  # not the paper's settings
    records.append(record("PROTEINS", "uniform", 0, 70.0, method="mvgrl", loss="jsd"))
    return records



def pm(values):
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def test_accuracy_table_matches_hand_computed_statistics():
    markdown = render_report(hand_made_records())
    rows = table_rows(markdown, "## Accuracy (%)")
    paper = {("MUTAG", "uniform"): (86.80, 1.34), ("MUTAG", "knn"): (86.46, 0.82),
             ("MUTAG", "proximity"): (87.78, 0.93), ("IMDB-BINARY", "uniform"): (70.90, 0.53),
             ("IMDB-BINARY", "proximity"): (71.90, 0.46)}
    for (dataset, sampler), by_seed in ACCURACY.items():
        row = rows[("graphcl/infonce", dataset, sampler)]
        values = list(by_seed.values())
        ours = pm(values) if len(values) > 1 else f"{values[0]:.2f}"
        mean, std = paper[(dataset, sampler)]
        verdict = "yes" if statistics.mean(values) >= mean - std else "**no**"
        assert row[:4] == [ours, str(len(values)), f"{mean:.2f} ± {std:.2f}",
                           f"{statistics.mean(values) - mean:+.2f}"]
        assert row[6] == ("copied" if dataset == "MUTAG" else "rerun")  # the paper's uniform
        assert row[7] == verdict and row[8] == "c0"
    # paired differences over the shared seeds only
    mutag = [ACCURACY[("MUTAG", "proximity")][s] - ACCURACY[("MUTAG", "uniform")][s]
             for s in (0, 1)]
    assert rows[("graphcl/infonce", "MUTAG", "proximity")][4] == (
        f"{statistics.mean(mutag):+.2f} ± {statistics.stdev(mutag):.2f} (2)")
    assert rows[("graphcl/infonce", "MUTAG", "proximity")][5] == f"{87.78 - 86.80:+.2f}"
    assert rows[("graphcl/infonce", "MUTAG", "knn")][4] == "-5.00 (1)"
    imdb = [-0.5, -1.0]
    assert rows[("graphcl/infonce", "IMDB-BINARY", "proximity")][4] == (
        f"{statistics.mean(imdb):+.2f} ± {statistics.stdev(imdb):.2f} (2)")
    assert rows[("graphcl/infonce", "MUTAG", "uniform")][4:6] == ["–", "–"]
    # other settings: own row, no verdict; no paper value: no verdict
    assert rows[("graphcl/infonce epochs=5", "MUTAG", "uniform")] == [
        "60.00", "1", "86.80 ± 1.34", "-26.80", "–", "–", "copied", "–", "c0"]
    assert rows[("mvgrl/jsd", "PROTEINS", "uniform")] == ["70.00", "1"] + ["–"] * 6 + ["c0"]
    assert len(rows) == 7


def test_shortfalls_are_spelled_out():
    markdown = render_report(hand_made_records())
    section = markdown.split("## Where we fall short of the paper", 1)[1].split("\n## ")[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert bullets == [
        "- graphcl/infonce MUTAG knn: 80.00 over 1 seed(s) against the paper's 86.46 ± 0.82: "
        "6.46 points below, more than the paper's std.",
        "- graphcl/infonce IMDB-BINARY proximity: 69.75 ± 0.35 over 2 seed(s) against the "
        "paper's 71.90 ± 0.46: 2.15 points below, more than the paper's std.",
        "- graphcl/infonce IMDB-BINARY proximity does not beat uniform: paired Δ -0.75 ± 0.35 "
        "over 2 seed(s), where the paper gains +1.00.",
    ]
    assert "fewer seeds (1, 2, 3) than the paper's 5" in section


def test_no_shortfall_says_so():
    records = [record("MUTAG", s, seed, 95.0 + (s == "proximity"))
               for s in ("uniform", "proximity") for seed in range(5)]
    section = render_report(records).split("## Where we fall short of the paper", 1)[1]
    assert ("Nowhere among the 2 cell(s) compared with the paper: each is within 1 std of "
            "the paper or above, and each of the 1 sampler(s) the paper finds better than "
            "uniform beats it here too.") in section
    assert "fewer seeds" not in section and "other settings" not in section


def test_the_summary_never_claims_a_cell_it_did_not_compare():
    """A cell far below the paper but run at other settings (5 epochs) is not called
    within 1 std: the summary says it was not compared."""
    records = [record("MUTAG", "uniform", seed, 95.0) for seed in range(5)]
    records += [record("MUTAG", "proximity", seed, 50.0, epochs=5) for seed in range(5)]
    section = render_report(records).split("## Where we fall short of the paper", 1)[1]
    assert "Nowhere among the 1 cell(s) compared with the paper" in section
    assert "each of the 0 sampler(s)" in section
    assert "1 cell(s) ran other settings than the paper's and are not compared." in section
    only_other = render_report(records[5:]).split("## Where we fall short", 1)[1]
    assert "No cell is compared with the paper" in only_other


def test_the_accuracy_axis_starts_at_zero():
    fig = plot_accuracy(summarize(hand_made_records()))
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel()]
    assert len(visible) == 4 and all(ax.get_ylim()[0] == 0 for ax in visible)


def test_hardness_table_averages_the_last_epoch_over_seeds():
    rows = table_rows(render_report(hand_made_records()), "## Batch hardness")
    for (dataset, sampler), by_seed in ACCURACY.items():
        last = [0.1 * (seed + 1) for seed in by_seed]
        expected = [statistics.mean(last), statistics.mean(x + 0.5 for x in last),
                    statistics.mean(x / 2 for x in last),
                    statistics.mean(1.0 - x / 4 for x in last)]
        assert rows[("graphcl/infonce", dataset, sampler)] == (
            [f"{v:.3f}" for v in expected] + [str(len(by_seed))])


def test_provenance_lists_devices_and_commits():
    markdown = render_report(hand_made_records())
    assert "| cpu (x) | c0 | 13 |" in markdown and "| gpu | c0 | 1 |" in markdown
    assert f"training {2.0 * 14:.1f} s, evaluation {1.0 * 14:.1f} s" in markdown
    assert '{"torch": "2.13.0"}' in markdown


def test_summarize_keeps_the_last_record_of_a_seed():
    cells = {(c.group, c.dataset, c.sampler): c for c in summarize(hand_made_records())}
    uniform = cells[("graphcl/infonce", "MUTAG", "uniform")]
    assert uniform.accuracy == ACCURACY[("MUTAG", "uniform")]
    assert uniform.stat.n == 3 and math.isclose(uniform.stat.mean, 259 / 3)
    assert math.isnan(cells[("graphcl/infonce", "MUTAG", "knn")].stat.std)
    assert [c.sampler for c in summarize(hand_made_records())[:3]] == [
        "uniform", "knn", "proximity"]


def test_paper_results_hold_the_paper_table():
    paper = paper_results()
    assert len(paper) == 7 * 3 * 3 + 4 * 3
    assert paper[("graphcl", "dcl", "proximity", "MUTAG")] == (89.47, 1.43)
    assert paper[("mvgrl", "jsd", "knn", "REDDIT-BINARY")] == (82.70, 0.67)


def test_write_report_writes_markdown_and_valid_pngs(tmp_path):
    (tmp_path / "results.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in hand_made_records()))
    report = write_report(tmp_path)
    assert report == tmp_path / "report.md"
    text = report.read_text()
    assert "86.80 ± 1.34" in text and "![accuracy by sampler (axis from 0%)](accuracy.png)" in text
    for name in ("accuracy.png", "hardness.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000


def test_saved_plots_are_palette_pngs_that_look_like_the_figure(tmp_path):
    import io

    import numpy as np
    from PIL import Image

    from graphsampler.bench.plots import plot_hardness, save_png
    from graphsampler.bench.stats import summarize

    fig = plot_hardness(summarize(hand_made_records()))
    save_png(fig, tmp_path / "h.png")
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=100)
    with Image.open(tmp_path / "h.png") as small, Image.open(full) as reference:
        assert small.mode == "P" and small.size == reference.size
        diff = np.abs(np.asarray(small.convert("RGB"), dtype=float)
                      - np.asarray(reference.convert("RGB"), dtype=float))
    assert diff.mean() < 2.0  # the same picture, up to palette rounding
    assert (tmp_path / "h.png").stat().st_size < len(full.getvalue())


def test_gzipped_results_give_the_same_report(tmp_path):
    text = "".join(json.dumps(r) + "\n" for r in hand_made_records())
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir(), packed.mkdir()
    (plain / "results.jsonl").write_text(text)
    with gzip.open(packed / "results.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(text)
    assert read_results(packed / "results.jsonl.gz") == hand_made_records()
    got = write_report(packed).read_text()
    assert got == write_report(plain).read_text().replace("`results.jsonl`",
                                                          "`results.jsonl.gz`")
    assert "`results.jsonl.gz`" in got


def test_read_results_skips_broken_lines_with_a_warning(tmp_path):
    good = record("MUTAG", "uniform", 0, 85.0)
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(good) + "\n\n[1, 2]\n" + json.dumps({"method": "graphcl"})
                    + "\n" + json.dumps(good)[:40])
    with pytest.warns(RuntimeWarning) as caught:
        assert read_results(path) == [good]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert "results.jsonl:3: skipped a line that is not a complete run record (TypeError" \
        in messages[0]
    assert "results.jsonl:4: skipped" in messages[1] and "missing loss, dataset" in messages[1]
    assert "results.jsonl:5: skipped" in messages[2] and "JSONDecodeError" in messages[2]


def test_write_report_errors(tmp_path):
    with pytest.raises(ValueError, match="results.jsonl not found; run `graphsampler bench "
                                         "--out"):
        write_report(tmp_path)
    (tmp_path / "results.jsonl").write_text('{"cut')
    with pytest.warns(RuntimeWarning), pytest.raises(
            ValueError, match="holds no complete run record; run the bench first"):
        write_report(tmp_path)
    assert not Path(tmp_path / "report.md").exists()
