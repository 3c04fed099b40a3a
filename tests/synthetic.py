"""Tiny synthetic graphs and run records shared by the tests."""
import torch
from torch_geometric.data import Data


def tiny_graphs(num_graphs: int = 40, num_features: int = 3, seed: int = 0) -> list[Data]:
    """Random small undirected graphs with two label-correlated shapes."""
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(num_graphs):
        n = int(torch.randint(3, 9, (1,), generator=gen))
        if i % 2:  # a cycle
            src = torch.arange(n)
            dst = (src + 1) % n
        else:  # a star
            src = torch.zeros(n - 1, dtype=torch.long)
            dst = torch.arange(1, n)
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        graphs.append(Data(x=torch.randn(n, num_features, generator=gen), edge_index=edge_index,
                           y=torch.tensor([i % 2])))
    return graphs


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_record(dataset, sampler, seed, acc, *, last_cos=0.2, device="cpu (x)", commit="c0",
           **config):
    """A run record as graphsampler.bench.run writes it, with a two-epoch history."""
    from graphsampler.bench import RunConfig
    cfg = RunConfig(dataset=dataset, sampler=sampler, seed=seed, **config)
    return {
        "method": cfg.method, "loss": cfg.loss, "dataset": dataset, "sampler": sampler,
        "seed": seed, "epochs": cfg.epochs, "accuracy_mean": acc, "accuracy_std": 1.0,
        "train_seconds": 2.0, "eval_seconds": 1.0, "device": device, "commit": commit,
        "versions": {"torch": "2.13.0"}, "config": cfg.settings(),
        "history": [
            {"epoch": 0, "neg_cos_mean": 0.9, "neg_cos_max": 0.99, "false_negative_rate": 0.9},
            {"epoch": 1, "neg_cos_mean": last_cos, "neg_cos_max": last_cos + 0.5,
             "false_negative_rate": last_cos / 2,
             "sampler_stats": {"coverage": 1.0 - last_cos / 4}},
        ],
    }


def tiny_run(sampler_cls=None):
    """40 tiny graphs, a GraphCL model and a sampler of batch 8 (proximity: M = 20, k = 5),
    seeded: what the loop's and the evaluation's tests train."""
    from graphsampler.data import IndexedDataset
    from graphsampler.methods.graphcl import GraphCL
    from graphsampler.samplers import ProximityBatchSampler

    sampler_cls = ProximityBatchSampler if sampler_cls is None else sampler_cls
    torch.manual_seed(0)
    ds = IndexedDataset(tiny_graphs(40))
    kw = dict(num_candidates=20, num_neighbors=5) if sampler_cls is ProximityBatchSampler else {}
    return ds, GraphCL(3), sampler_cls(len(ds), 8, seed=0, **kw)


def table_rows(markdown, heading):
    """The rows of the markdown table under `heading` (up to the next heading), keyed by
    their first three columns."""
    section = markdown.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and not cols[0].startswith("---") and cols[0] != "method/loss":
            rows[tuple(cols[:3])] = cols[3:]
    return rows
