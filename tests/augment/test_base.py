import pytest
import torch
from torch_geometric.data import Batch, Data

import graphsampler.augment as augment
from graphsampler.augment import (
    Augmentation,
    DropNodes,
    Identity,
    MaskAttributes,
    PerturbEdges,
    RandomChoice,
    Subgraph,
)

AUGMENTATIONS = [DropNodes(0.3), PerturbEdges(0.3), MaskAttributes(0.3), Subgraph(0.3),
                 Identity(), RandomChoice([DropNodes(0.3), Subgraph(0.3)])]


def ring_batch(sizes=(5, 7, 4)) -> Batch:
    graphs = []
    for n in sizes:
        src = torch.arange(n)
        ring = torch.stack([src, (src + 1) % n])
        graphs.append(Data(x=torch.arange(n, dtype=torch.float).view(-1, 1) + 1,
                           edge_index=torch.cat([ring, ring.flip(0)], dim=1)))
    return Batch.from_data_list(graphs)


def same_graph(a: Batch, b: Batch, g: int) -> bool:
    x, y = a.get_example(g), b.get_example(g)
    return torch.equal(x.x, y.x) and torch.equal(x.edge_index, y.edge_index)


@pytest.mark.parametrize("aug", AUGMENTATIONS, ids=repr)
def test_every_augmentation_keeps_the_shared_contract(aug):
    assert isinstance(aug, Augmentation)
    batch = ring_batch()
    before = {key: value.clone() for key, value in batch.items() if torch.is_tensor(value)}
    mask = torch.tensor([False, True, False])
    view = aug(batch, torch.Generator().manual_seed(0), mask)
    assert view is not batch and view.num_graphs == batch.num_graphs
    assert same_graph(view, batch, 0) and same_graph(view, batch, 2)  # not selected
    for key, value in before.items():  # the input is not modified
        assert torch.equal(batch[key], value)
    again = aug(batch, torch.Generator().manual_seed(0), mask)
    assert torch.equal(again.x, view.x) and torch.equal(again.edge_index, view.edge_index)


@pytest.mark.parametrize("aug", AUGMENTATIONS, ids=repr)
def test_every_augmentation_checks_its_inputs_the_same_way(aug):
    batch = ring_batch()
    with pytest.raises(ValueError, match="^augmentations take a collated "
                                         "torch_geometric.data.Batch .* got Data$"):
        aug(batch.get_example(0))
    with pytest.raises(ValueError, match=r"^graph_mask must be a bool tensor of shape "
                                         r"\[3\] \(one entry per graph\), got dtype "
                                         r"torch.int64, shape \[3\]$"):
        aug(batch, None, torch.ones(3, dtype=torch.long))


def test_repr_names_the_constructor_arguments():
    assert [repr(aug) for aug in AUGMENTATIONS] == [
        "DropNodes(ratio=0.3)", "PerturbEdges(ratio=0.3)",
        "MaskAttributes(ratio=0.3, fill='gaussian')",
        "Subgraph(keep_ratio=0.3, max_steps=128)", "Identity()",
        "RandomChoice([DropNodes(ratio=0.3), Subgraph(keep_ratio=0.3, max_steps=128)])"]


def test_a_subclass_implements_augment_on_the_checked_layout():
    class DropEdges(Augmentation):
        def augment(self, batch, layout, generator):
            assert layout.active.tolist() == [True, False, True]
            view = batch.clone()
            view.edge_index = batch.edge_index[:, :0]
            return view

    batch = ring_batch()
    view = DropEdges()(batch, graph_mask=torch.tensor([True, False, True]))
    assert view.edge_index.size(1) == 0 and repr(DropEdges()) == "DropEdges()"
    with pytest.raises(NotImplementedError, match="^Bare must implement augment$"):
        type("Bare", (Augmentation,), {})()(batch)


def test_public_names_are_public_api():
    assert "Augmentation" in augment.__all__
    assert all(not name.startswith("_") for name in augment.__all__)
    assert all(hasattr(augment, name) for name in augment.__all__)
