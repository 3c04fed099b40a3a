from functools import cache

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphsampler.augment.drop_nodes import DropNodes
from graphsampler.augment.mask_attributes import MaskAttributes
from graphsampler.augment.perturb_edges import PerturbEdges
from graphsampler.augment.random_choice import (
    GRAPHCL_AUGMENTATIONS,
    Identity,
    RandomChoice,
    graphcl_augmentation,
)
from graphsampler.augment.subgraph import Subgraph

N = 20  # nodes per graph: DropNodes(0.1) leaves 18, Subgraph(0.2) keeps 5


@cache  # augmentations never modify their input
def ring_batch(copies: int) -> Batch:
    """Undirected 20-node rings with x = 10 and edge_attr = 1, so the view of each graph
    tells which augmentation it got."""
    ring = torch.tensor([list(range(N)), [(i + 1) % N for i in range(N)]])
    ring = torch.cat([ring, ring.flip(0)], dim=1)
    return Batch.from_data_list([
        Data(x=torch.full((N, 3), 10.0), edge_index=ring, edge_attr=torch.ones(2 * N, 1),
             sample_idx=torch.tensor(i))
        for i in range(copies)])


def classify(view: Batch) -> list[str]:
    """The augmentation each graph of a view of ring_batch got (exactly one, else fail)."""
    def per_graph(graph: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        return torch.zeros(view.num_graphs, dtype=torch.long).index_add_(0, graph, flags.long())

    num_nodes = view.ptr.diff()
    signs = {
        "dnodes": num_nodes == N - 2,
        "subgraph": num_nodes == 5,
        "pedges": per_graph(view.batch[view.edge_index[0]], view.edge_attr[:, 0] == 0) > 0,
        "mask_nodes": per_graph(view.batch, (view.x != 10).any(dim=1)) > 0,
    }
    stacked = torch.stack(list(signs.values()), dim=1)
    assert (stacked.sum(dim=1) <= 1).all()
    names = list(signs) + ["none"]
    chosen = torch.where(stacked.any(dim=1), stacked.long().argmax(dim=1), len(signs))
    return [names[i] for i in chosen.tolist()]


@pytest.mark.parametrize("name,pool", [
    ("random2", ["dnodes", "subgraph"]),
    ("random3", ["dnodes", "pedges", "subgraph"]),
    ("random4", ["dnodes", "pedges", "subgraph", "mask_nodes"]),
])
def test_each_graph_gets_one_augmentation_drawn_uniformly(name, pool):
    copies = 1200
    batch = ring_batch(copies)
    view = graphcl_augmentation(name)(batch, torch.Generator().manual_seed(0))
    assert torch.equal(view.sample_idx, batch.sample_idx)
    counts = {key: 0 for key in pool}
    for got in classify(view):
        counts[got] += 1  # KeyError: an augmentation outside the pool
    expected = copies / len(pool)
    for key, count in counts.items():
        # sd at most sqrt(1200 / 4) = 17.3
        assert abs(count - expected) < 80, counts


def test_choices_are_independent_across_graphs():
    view = graphcl_augmentation("random2")(ring_batch(1200), torch.Generator().manual_seed(1))
    got = classify(view)
    # Consecutive graphs agree half the time when choices are independent.
    same = sum(a == b for a, b in zip(got, got[1:])) / (len(got) - 1)
    assert same == pytest.approx(0.5, abs=0.07)  # sd 0.014


def test_graph_mask_and_seeded_reproducibility():
    batch = ring_batch(40)
    aug = graphcl_augmentation("random4")
    mask = torch.arange(40) % 2 == 0
    first = aug(batch, torch.Generator().manual_seed(3), graph_mask=mask)
    second = aug(batch, torch.Generator().manual_seed(3), graph_mask=mask)
    assert torch.equal(first.x, second.x) and torch.equal(first.edge_index, second.edge_index)
    got = classify(first)
    assert all(name == "none" for name in got[1::2])
    assert all(name != "none" for name in got[::2])


def test_graphcl_names():
    assert GRAPHCL_AUGMENTATIONS == ("dnodes", "pedges", "subgraph", "mask_nodes", "none",
                                     "random2", "random3", "random4")
    singles = {"dnodes": (DropNodes, 0.1), "pedges": (PerturbEdges, 0.1),
               "mask_nodes": (MaskAttributes, 0.1)}
    for name, (cls, ratio) in singles.items():
        aug = graphcl_augmentation(name)
        assert type(aug) is cls and aug.ratio == ratio
    assert graphcl_augmentation("mask_nodes").fill == "gaussian"
    sub = graphcl_augmentation("subgraph")
    assert type(sub) is Subgraph and sub.keep_ratio == 0.2
    assert type(graphcl_augmentation("none")) is Identity
    assert repr(graphcl_augmentation("random3")) == (
        "RandomChoice([DropNodes(ratio=0.1), PerturbEdges(ratio=0.1), "
        "Subgraph(keep_ratio=0.2, max_steps=128)])")
    assert [type(a) for a in graphcl_augmentation("random4").augmentations] == [
        DropNodes, PerturbEdges, Subgraph, MaskAttributes]


def test_identity_returns_a_new_equal_batch():
    batch = ring_batch(3)
    view = Identity()(batch)
    assert view is not batch
    assert all(torch.equal(view[key], batch[key]) for key in batch.keys())
    view.x = torch.zeros(1)  # reassigning on the view leaves the input alone
    assert batch.x.shape == (3 * N, 3)


def test_rejects_unknown_name_and_empty_choice():
    with pytest.raises(ValueError, match="unknown GraphCL augmentation 'dropnodes'; choose one "
                                         "of dnodes, pedges, subgraph, mask_nodes, none, "
                                         "random2, random3, random4"):
        graphcl_augmentation("dropnodes")
    with pytest.raises(ValueError, match="augmentations must be a non-empty sequence"):
        RandomChoice([])
    with pytest.raises(ValueError, match="augmentations must be a non-empty sequence"):
        RandomChoice(["dnodes"])


def test_random4_without_features_says_what_to_do():
    ring = torch.tensor([[0, 1], [1, 0]])
    batch = Batch.from_data_list([Data(edge_index=ring, num_nodes=2)] * 3)
    with pytest.raises(ValueError, match="give featureless graphs a constant or degree feature"):
        graphcl_augmentation("random4")(batch)


@pytest.mark.cuda
def test_cuda_random4_runs_on_device():
    batch = ring_batch(200).to("cuda")
    view = graphcl_augmentation("random4")(batch, torch.Generator(device="cuda").manual_seed(0))
    assert view.x.is_cuda and view.edge_index.is_cuda
    assert set(classify(view.cpu())) == {"dnodes", "pedges", "subgraph", "mask_nodes"}
