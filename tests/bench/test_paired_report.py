"""The report's paired sections: Δ under each normalisation, the pooled estimate, every
cell's top-up share and coverage, the B/N axis, and the links to every plot written."""
import json
import math
import statistics

import numpy as np
import pytest
from synthetic import PNG_MAGIC, run_record, table_rows

from graphsampler.bench import render_report, write_report
from graphsampler.bench.paired_report import NEGATIVE_MEAN, NEGATIVE_T
from graphsampler.bench.plots import plot_batch_ratio, plot_sweep
from graphsampler.bench.pooled import cluster_bootstrap
from graphsampler.bench.report import Summary


def norm_records():
    """MUTAG, seeds 0-2: uniform and proximity with three normalisations each; seed 2's
    uniform run predates accuracy_by_norm."""
    by_norm = {"uniform": {0: (87.0, 86.0, 86.5), 1: (88.0, 86.0, 85.0), 2: None},
               "proximity": {0: (87.5, 87.0, 87.0), 1: (87.0, 88.0, 88.5),
                             2: (86.0, 86.0, 86.0)}}
    records = []
    for sampler, seeds in by_norm.items():
        for seed, accs in seeds.items():
            r = run_record("MUTAG", sampler, seed, 80.0 + seed)
            if accs is not None:
                r.update(norm_default="clean", bn_collapse=(sampler, seed) == ("proximity", 1),
                         accuracy_by_norm={n: {"mean": a, "std": 1.0, "fold_accuracies": [],
                                               "best_c": []}
                                           for n, a in zip(("train", "clean", "views"), accs)})
            records.append(r)
    return records, by_norm


def test_norm_section_shows_each_normalisations_paired_difference():
    records, by_norm = norm_records()
    rows = table_rows(render_report(records), "## Δ vs uniform under each BatchNorm")
    row = rows[("graphcl/infonce", "MUTAG", "proximity")]
    expected = []
    for i in range(3):  # seeds 0 and 1 only: seed 2's uniform run has no norms
        diffs = [by_norm["proximity"][s][i] - by_norm["uniform"][s][i] for s in (0, 1)]
        expected.append(f"{statistics.mean(diffs):+.2f} ± {statistics.stdev(diffs):.2f} (2)")
    assert row == expected + ["clean", "1", "c0"]
    # without accuracy_by_norm anywhere, no section
    plain = [run_record("MUTAG", s, 0, 80.0) for s in ("uniform", "proximity")]
    assert "under each BatchNorm" not in render_report(plain)


# dataset -> (proximity - uniform by seed); uniform is 70 + seed / 10
DELTAS = {"MUTAG": [1.0, 2.0, 0.5, 1.5], "PROTEINS": [-1.0, -1.2, -0.9, -1.1],
          "NCI1": [-1.0, 2.0, -3.0, 0.5], "COLLAB": [-0.3, -0.31, -0.29, -0.3]}


def pooled_records(batch_size=128, deltas=DELTAS, walk_filled=50):
    records = []
    for dataset, diffs in deltas.items():
        for seed, d in enumerate(diffs):
            base = 70.0 + seed / 10
            for sampler, acc in (("uniform", base), ("proximity", base + d)):
                r = run_record(dataset, sampler, seed, acc, batch_size=batch_size)
                r["num_graphs"] = {"MUTAG": 188, "PROTEINS": 1113, "NCI1": 4110,
                                   "COLLAB": 5000}[dataset]
                if sampler == "proximity":
                    r["history"][-1]["sampler_stats"]["walk_filled"] = walk_filled + seed
                records.append(r)
    return records


def dl_mean(table):
    y = [statistics.fmean(v) for v in table.values()]
    v = [statistics.variance(x) / len(x) for x in table.values()]
    w = [1 / vi for vi in v]
    fixed = sum(a * b for a, b in zip(w, y)) / sum(w)
    q = sum(a * (b - fixed) ** 2 for a, b in zip(w, y))
    tau2 = max(0.0, (q - len(y) + 1) / (sum(w) - sum(a * a for a in w) / sum(w)))
    ws = [1 / (vi + tau2) for vi in v]
    mean = sum(a * b for a, b in zip(ws, y)) / sum(ws)
    se = math.sqrt(1 / sum(ws))
    return mean, mean - 1.959964 * se, mean + 1.959964 * se, tau2


def test_pooled_section_gives_both_estimators_and_the_negative_datasets():
    markdown = render_report(pooled_records())
    section = markdown.split("## Pooled Δ over datasets", 1)[1]
    row = [line for line in section.splitlines()
           if line.startswith("| graphcl/infonce | proximity |")][0]
    cols = [c.strip() for c in row.strip("|").split("|")]
    every = [d for diffs in DELTAS.values() for d in diffs]
    boot = cluster_bootstrap({k: dict(enumerate(v)) for k, v in DELTAS.items()})
    mean, low, high, tau2 = dl_mean(DELTAS)
    assert cols[2:5] == ["4", "16", f"{np.mean(every):+.2f} [{boot.low:+.2f}, {boot.high:+.2f}]"]
    assert cols[5] == f"{mean:+.2f} [{low:+.2f}, {high:+.2f}] (4, {tau2:.2f})"
    assert cols[6] == "1 / 3"  # MUTAG above 0; PROTEINS, NCI1, COLLAB below
    # PROTEINS: mean -1.05, t far below -2; NCI1: mean -0.375 and t near 0; COLLAB:
    # t far below -2 but mean above -0.5
    t = statistics.mean(DELTAS["PROTEINS"]) / (statistics.stdev(DELTAS["PROTEINS"]) / 2)
    assert t < NEGATIVE_T and statistics.mean(DELTAS["COLLAB"]) > NEGATIVE_MEAN
    assert cols[7] == f"PROTEINS ({statistics.mean(DELTAS['PROTEINS']):+.2f}, t = {t:.1f})"
    assert "random effects" in section.lower() and "bootstrap clustered by dataset" in section


def test_every_cell_shows_its_top_up_share_and_coverage():
    rows = table_rows(render_report(pooled_records(batch_size=64)), "### Every cell's Δ")
    for dataset, n in (("MUTAG", 188), ("NCI1", 4110)):
        cols = rows[("graphcl/infonce batch_size=64", dataset, "proximity")]
        slots = math.ceil(n / 64) * 64
        share = statistics.mean((50 + s) / slots for s in range(4))
        diffs = DELTAS[dataset]
        se = statistics.stdev(diffs) / 2
        assert cols == [f"{100 * 64 / n:.3g}%", "4",
                        f"{statistics.mean(diffs):+.2f} ± {statistics.stdev(diffs):.2f}",
                        f"{se:.2f}", f"{statistics.mean(diffs) / se:.1f}",
                        f"{100 * share:.1f}%", f"{1.0 - 0.2 / 4:.2f}", "c0"]


def test_batch_ratio_axis_fits_the_slope_and_links_its_plot(tmp_path):
    shift = {32: 0.6, 64: 0.3, 128: 0.0}  # the gain grows as B/N shrinks
    records = []
    for b, extra in shift.items():
        records += pooled_records(b, {k: [d + extra for d in v] for k, v in DELTAS.items()})
    summary = Summary.of(records)
    fit = summary.batch_fits["graphcl/infonce proximity"]
    points = [(math.log10(b / n), statistics.mean(v) + shift[b], statistics.stdev(v) / 2)
              for b in shift for n, v in zip((188, 1113, 4110, 5000), DELTAS.values())]
    x, y, se = map(np.asarray, zip(*points))
    slope, intercept = np.polyfit(x, y, 1, w=1 / se)  # polyfit weights are 1/sigma
    assert (fit.slope, fit.intercept, fit.points) == pytest.approx((slope, intercept, 12))
    assert fit.low < fit.slope < fit.high
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    text = write_report(tmp_path).read_text()
    assert "## Δ against the batch-to-dataset ratio B/N" in text
    assert f"| graphcl/infonce proximity | 12 (12) | 4 | 32, 64, 128 | {fit.slope:+.2f} " \
           f"[{fit.low:+.2f}, {fit.high:+.2f}] |" in text
    assert (tmp_path / "b_over_n.png").read_bytes()[:8] == PNG_MAGIC
    ax = plot_batch_ratio(summary.batch_points, summary.batch_fits).axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) >= 4


def test_every_plot_written_is_linked(tmp_path):
    """Default proximity against uniform and nothing else: the M/N plot is written (one
    point per dataset), and linked although there is no variant section."""
    records = pooled_records()
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    text = write_report(tmp_path).read_text()
    assert "Sampler variants" not in text
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == ["accuracy.png", "hardness.png", "m_over_n.png"]
    for name in written:
        assert f"]({name})" in text


def test_one_seed_summaries_print_no_spread():
    records = [run_record("MUTAG", s, 0, 80.0 + (s == "proximity"))
               for s in ("uniform", "proximity")]
    text = render_report(records)
    assert "± 0.00" not in text and "nan" not in text
    assert "| graphcl/infonce | MUTAG | proximity | 68.1% | 1 | +1.00 | – | – |" in text


def test_log_axis_labels_do_not_overlap():
    # MUTAG's M = 6 of 188 and PROTEINS' 34 of 1113: M/N 0.0319 and 0.0305, less than
    # a decade apart, where matplotlib labelled the minor ticks over each other
    records = [run_record(d, s, 0, 70.0) for d in ("MUTAG", "PROTEINS")
               for s in ("uniform", "proximity")]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot_sweep(Summary.of(records).pairs)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True)
              if t.get_text() and t.get_visible()
              and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    boxes = [t.get_window_extent(renderer)
             for t in sorted(labels, key=lambda t: t.get_position()[0])]
    assert len(boxes) >= 2  # the axis is labelled inside the data's range
    for a, b in zip(boxes, boxes[1:]):
        assert not a.overlaps(b)


def test_a_records_resolved_m_wins_over_resolving_its_config():
    """New records hold the resolved M; old ones are resolved from M = 0.03 N."""
    old = [run_record("MUTAG", s, 0, 80.0) for s in ("uniform", "proximity")]
    new = [dict(r, num_graphs=188) for r in old]
    new[1]["num_candidates_resolved"] = 50
    assert Summary.of(old).pairs[0].m_over_n == pytest.approx(math.ceil(0.03 * 188) / 188)
    assert Summary.of(new).pairs[0].m_over_n == pytest.approx(50 / 188)


def test_uniform_runs_under_each_normalisation_feed_the_rule():
    records, by_norm = norm_records()
    bzr = run_record("BZR", "uniform", 0, 79.0)
    bzr.update(accuracy_by_norm={"train": {"mean": 79.0}, "clean": {"mean": 78.0}})
    text = render_report(records + [bzr])
    section = text.split("### Uniform runs under each normalisation", 1)[1]
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ")][1:]
    mutag = {n: statistics.fmean(by_norm["uniform"][s][i] for s in (0, 1))
             for i, n in enumerate(("train", "clean", "views"))}
    assert rows[0] == ["graphcl/infonce", "MUTAG", f"{mutag['train']:.2f}",
                       f"{mutag['clean']:.2f}", f"{mutag['views']:.2f}", "2"]
    assert rows[1] == ["graphcl/infonce", "BZR", "79.00", "78.00", "–", "1"]
    # equal weight per dataset; a name missing on one dataset has no pooled mean
    assert rows[2] == ["**graphcl/infonce**", "**2 datasets**",
                       f"{(mutag['train'] + 79.0) / 2:.2f}",
                       f"{(mutag['clean'] + 78.0) / 2:.2f}", "–", ""]
