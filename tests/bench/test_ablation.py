
import pytest
from synthetic import PNG_MAGIC
from synthetic import run_record as record

from graphsampler.bench import render_report, write_report
from graphsampler.bench.ablation import pair_with_uniform
from graphsampler.bench.plots import is_sweep_point
from graphsampler.bench.results import RESULTS_FILE

# (dataset, sampler, settings) -> accuracy by seed
RUNS = {
    ("IMDB-BINARY", "uniform", ()): {0: 70.0, 1: 72.0, 2: 71.0},
    ("IMDB-BINARY", "proximity", ()): {0: 71.0, 1: 71.0},
    ("IMDB-BINARY", "proximity", (("num_candidates", 0.1), ("num_neighbors", 0.01))):
        {0: 72.0, 1: 73.0, 2: 74.0},
    ("IMDB-BINARY", "proximity", (("bank", "encoder"),)): {1: 70.0},
    ("IMDB-BINARY", "proximity", (("epochs", 5),)): {0: 60.0},  # no uniform at 5 epochs
    ("PROTEINS", "uniform", ()): {0: 74.0},
    ("PROTEINS", "proximity", (("num_candidates", 0.1), ("num_neighbors", 0.01))): {0: 73.0},
}


def records():
    out = []
    for (dataset, sampler, settings), by_seed in RUNS.items():
        for seed, acc in by_seed.items():
            r = record(dataset, sampler, seed, acc, **dict(settings))
            r["history"][1].update(twin_rate=0.1 * seed, count_p10=1.0, count_median=2.0,
                                   count_p90=3.0)
            r["history"][1]["sampler_stats"]["walk_filled"] = 4
            out.append(r)
    return out


def test_variants_pair_with_uniform_seed_by_seed():
    pairs = {(p.dataset, p.variant, p.group): p for p in pair_with_uniform(records())}
    small = pairs[("IMDB-BINARY", "proximity num_candidates=0.1 num_neighbors=0.01",
                   "graphcl/infonce")]
    assert small.difference.mean == pytest.approx((2 + 1 + 3) / 3) and small.difference.n == 3
    assert small.m_over_n == pytest.approx(0.1)
    assert small.diagnostics["twin_rate"] == pytest.approx(0.1)  # seeds 0, 1, 2
    assert small.diagnostics["walk_filled"] == 4 and small.diagnostics["count_p90"] == 3
    default = pairs[("IMDB-BINARY", "proximity", "graphcl/infonce")]
    assert default.difference.mean == pytest.approx(0.0) and default.m_over_n == 0.03
    assert default.commits == ("c0",)
    # the bank only changes what the sampler sees: paired with the plain uniform runs
    bank = pairs[("IMDB-BINARY", "proximity bank=encoder", "graphcl/infonce")]
    assert bank.difference.mean == pytest.approx(-2.0) and bank.difference.n == 1
    # another training length is another group, without a uniform baseline here
    short = pairs[("IMDB-BINARY", "proximity", "graphcl/infonce epochs=5")]
    assert short.difference is None
    assert pairs[("PROTEINS", "proximity num_candidates=0.1 num_neighbors=0.01",
                  "graphcl/infonce")].m_over_n == pytest.approx(112 / 1113)
    assert is_sweep_point(small) and is_sweep_point(default) and not is_sweep_point(bank)


def test_report_has_the_variant_section_and_the_sweep_plot(tmp_path):
    import json
    with open(tmp_path / RESULTS_FILE, "w") as fh:
        for r in records():
            fh.write(json.dumps(r) + "\n")
    write_report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "## Sampler variants against uniform (paired)" in text
    assert "| graphcl/infonce | IMDB-BINARY | proximity num_candidates=0.1 " \
           "num_neighbors=0.01 | 0.1 | 73.00 ± 1.00 | +2.00 ± 1.00 (3) |" in text
    assert "| graphcl/infonce | proximity num_candidates=0.1 num_neighbors=0.01 | " \
           "IMDB-BINARY, PROTEINS | +0.50 | 1 of 2 | -1.00 |" in text
    assert (tmp_path / "m_over_n.png").read_bytes()[:8] == PNG_MAGIC


def test_plain_sampler_comparisons_get_no_variant_section():
    plain = [r for r in records() if set(r["config"]) and r["sampler"] in ("uniform",)]
    assert "Sampler variants" not in render_report(plain)
