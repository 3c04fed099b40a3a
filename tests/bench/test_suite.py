"""Suite files: the shipped suites, cells into run configs, their errors (the queue that
runs them is tests/bench/test_queue.py)."""
from pathlib import Path

import pytest

from graphsampler.bench import RunConfig, load_suite, paper_results
from graphsampler.bench.stats import changed_settings
from graphsampler.bench.suite import read_suite_text
from graphsampler.data import tu_manifest

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "suite.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_quick_suite_expands_to_the_product_in_order():
    suite = load_suite("quick")
    expected = [RunConfig(dataset=d, seed=s, sampler=sampler)
                for d in ("MUTAG", "IMDB-BINARY") for s in (0, 1)
                for sampler in ("uniform", "proximity")]
    assert list(suite.configs) == expected and suite.name == "quick" and not suite.scripts
    assert read_suite_text("quick")[0] == "quick"


def test_paper_suite_covers_the_paper_table_smallest_datasets_first():
    suite = load_suite("paper")
    assert all(changed_settings(c.settings()) == {} for c in suite.configs)  # the paper's
    cells = {(c.method, c.loss, c.sampler, c.dataset) for c in suite.configs}
    assert cells == set(paper_results())
    for cell in cells:
        seeds = [c.seed for c in suite.configs if (c.method, c.loss, c.sampler, c.dataset) == cell]
        assert seeds == [0, 1, 2, 3, 4]
    manifest = tu_manifest()
    size = [manifest[c.dataset]["graphs"]
            * (manifest[c.dataset]["avg_nodes"] + manifest[c.dataset]["avg_edges"])
            for c in suite.configs]
    assert size == sorted(size) and len(suite.configs) == 375


def test_mvgrl_suite_covers_seven_datasets_fewest_nodes_first():
    suite = load_suite("mvgrl")
    assert all(changed_settings(c.settings()) == {} for c in suite.configs)
    cells = {(c.method, c.loss, c.sampler, c.dataset, c.seed) for c in suite.configs}
    datasets = ("MUTAG", "IMDB-BINARY", "IMDB-MULTI", "PROTEINS", "NCI1", "COLLAB",
                "REDDIT-BINARY")
    assert cells == {("mvgrl", "jsd", s, d, seed) for s in ("uniform", "knn", "proximity")
                     for d in datasets for seed in range(5)}
    assert len(suite.configs) == len(cells)
    manifest = tu_manifest()
    nodes = [manifest[c.dataset]["graphs"] * manifest[c.dataset]["avg_nodes"]
             for c in suite.configs]
    # IMDB-BINARY and IMDB-MULTI hold about as many nodes (19.8k, 19.5k): in the paper
    # table's order; from PROTEINS on, fewest nodes first
    order = [d for i, d in enumerate(c.dataset for c in suite.configs)
             if i == 0 or suite.configs[i - 1].dataset != d]
    assert order == list(datasets)
    assert nodes[3 * 15:] == sorted(nodes[3 * 15:])


def test_speed_suite_lists_the_scripts():
    suite = load_suite("speed")
    assert not suite.configs
    names = ("sampler_speed", "epoch_speed", "svm_speed", "mvgrl_speed", "mvgrl_flops",
             "bf16_memory")
    assert [s.path for s in suite.scripts] == [Path("benchmarks", f"{n}.py") for n in names]
    assert all((REPO / s.path).exists() for s in suite.scripts)


def test_cell_overrides_and_loss_pairing(tmp_path):
    path = write(tmp_path, """
description = "custom"
[[cells]]
methods = ["graphcl", "mvgrl"]
losses = ["dcl", "jsd"]
datasets = ["NCI1"]
samplers = ["knn"]
seeds = [3]
epochs = 2
lr = 1
augmentation = "random4"
precision = "bf16"
[[cells]]
methods = ["graphcl"]
datasets = ["MUTAG"]
samplers = ["uniform"]
seeds = [0]
""")
    suite = load_suite(path, device="cpu", data_root="/data")
    common = dict(dataset="NCI1", sampler="knn", seed=3, epochs=2, lr=1.0,
                  augmentation="random4", precision="bf16", device="cpu", data_root="/data")
    assert list(suite.configs) == [
        RunConfig(method="graphcl", loss="dcl", **common),
        RunConfig(method="mvgrl", loss="jsd", **common),
        RunConfig(method="graphcl", loss="infonce", dataset="MUTAG", device="cpu",
                  data_root="/data")]
    assert suite.name == "suite" and suite.description == "custom"


def test_datasets_filter(tmp_path):
    suite = load_suite("quick", datasets=["IMDB-BINARY"])
    assert [c.dataset for c in suite.configs] == ["IMDB-BINARY"] * 4
    assert len(load_suite("quick", datasets=["MUTAG", "IMDB-BINARY"]).configs) == 8
    with pytest.raises(ValueError, match="--datasets NCI1 not in suite quick; its datasets "
                                         "are MUTAG, IMDB-BINARY"):
        load_suite("quick", datasets=["MUTAG", "NCI1"])


@pytest.mark.parametrize("text, message", [
    ("cells = [", r"suite suite is not valid TOML"),
    ("name = 'x'", r"unknown key\(s\) name; allowed: description, cells, scripts"),
    ("description = 3", "description must be a string"),
    ("cells = 3", r"cells must be a list of tables, written \[\[cells\]\]"),
    ("description = 'empty'", r"has neither \[\[cells\]\] nor \[\[scripts\]\]"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epoch=3", r"cell 1: unknown key\(s\) epoch; allowed: methods, losses, datasets, samplers, "
                r"seeds, epochs, batch_size, lr, hidden_channels, augmentation, bank, "
                r"exclude_copies, num_candidates, num_neighbors, restart_prob, "
                r"restart_schedule, epoch_rule, twin_threshold, dedupe_twins, dedupe_copies, "
                r"neighbor_offset, walk_fraction, target_hardness, drop_last, node_attributes, "
                r"precision"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "augmentation='random9'", r"cell 1: unknown GraphCL augmentation 'random9'; choose one of "),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "augmentation=2", r"cell 1: augmentation must be str, got 2"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "precision='fp16'", r"cell 1: unknown precision 'fp16'; choose one of"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']", r"missing key\(s\) samplers, seeds"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[]",
     "seeds must be a non-empty list of ints"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[true]",
     "seeds must be a non-empty list of ints"),
    ("[[cells]]\nmethods='graphcl'\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]",
     "methods must be a non-empty list of strings"),
    ("[[cells]]\nmethods=['simclr']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]",
     r"unknown method\(s\) simclr; choose from graphcl, mvgrl"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['random']\nseeds=[0]",
     r"cell 1: unknown sampler 'random'; choose one of uniform, fixed, knn, proximity, adaptive"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "restart_prob=1", r"cell 1: restart_prob must be a number in \[0, 1\)"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "num_candidates=1000\nnum_neighbors=1000",
     r"cell 1: num_neighbors \(1000\) must be smaller than num_candidates"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epochs=0", r"cell 1: epochs must be >= 1, got 0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "batch_size=-1", r"cell 1: batch_size must be >= 1, got -1"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "hidden_channels=0", r"cell 1: hidden_channels must be a positive int, got 0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[-1]",
     "cell 1: seed must be >= 0, got -1"),
    ("[[cells]]\nmethods=['graphcl']\nlosses=['jsd']\ndatasets=['MUTAG']\nsamplers=['uniform']"
     "\nseeds=[0]", r"losses \['jsd'\] do not fit methods \['graphcl'\] \(graphcl takes "
                    r"infonce, dcl, hcl; mvgrl takes jsd\)"),
    ("[[cells]]\nmethods=['graphcl', 'mvgrl']\nlosses=['dcl']\ndatasets=['MUTAG']\n"
     "samplers=['uniform']\nseeds=[0]", "every loss needs a method and every method a loss"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "epochs=2.5", "cell 1: epochs must be int, got 2.5"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0]\n"
     "lr=0", r"cell 1: lr must be a number > 0, got 0.0"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['proximity']\nseeds=[0]\n"
     "restart_prob=1.5", r"restart_prob must be a number in \[0, 1\) .*, got 1.5"),
    ("[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[0, 1]\n"
     "[[cells]]\nmethods=['graphcl']\ndatasets=['MUTAG']\nsamplers=['uniform']\nseeds=[1]",
     "cell 2 repeats the run graphcl/infonce MUTAG uniform seed 1 of an earlier cell"),
    ("[[scripts]]\npath=3", "script 1: path must be a string"),
    ("[[scripts]]\npath='a.py'\nargs='--quick'", "script 1: args must be a list of strings"),
    ("[[scripts]]\npath='a.py'\nquick=true", r"script 1: unknown key\(s\) quick; allowed: "
                                             r"path, args"),
])
def test_bad_suite_files(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_suite(write(tmp_path, text))


def test_unknown_suites():
    with pytest.raises(ValueError, match="unknown suite 'full'; choose one of ablation, "
                                         "confirm, cpu, mvgrl, mvgrl_bf16, paper, quick, "
                                         "speed, study or give a path to a .toml file"):
        load_suite("full")
    with pytest.raises(ValueError, match="suite file nowhere/x.toml not found"):
        load_suite("nowhere/x.toml")


def test_a_suite_accepts_what_the_sampler_accepts(tmp_path):
    """restart_prob 0 (the sampler takes it) passes; a key that does not apply to a
    cell's sampler is left out of its runs' settings."""
    path = write(tmp_path, """
[[cells]]
methods = ["graphcl", "mvgrl"]
datasets = ["PTC_MR"]
samplers = ["uniform", "proximity"]
seeds = [0]
restart_prob = 0
""")
    configs = load_suite(path).configs
    assert [c.restart_prob for c in configs] == [0] * 4 and configs[0].dataset == "PTC_MR"
    assert ["restart_prob" in c.settings() for c in configs] == [False, True] * 2
    assert ["augmentation" in c.settings() for c in configs] == [True, True, False, False]
