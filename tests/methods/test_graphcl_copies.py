import pytest
import torch
from synthetic import tiny_graphs
from torch_geometric.data import Batch

from graphsampler.methods.graphcl import GraphCL


class _Spy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.groups = "not called"

    def forward(self, z1, z2, groups=None):
        self.groups = groups
        return (z1 * z2).sum()


def _batch(with_ids: bool) -> Batch:
    graphs = tiny_graphs(4)
    if with_ids:
        for graph, copy_id in zip(graphs, [0, 0, 2, 3]):
            graph.copy_id = torch.tensor([copy_id])
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("exclude", [False, True])
def test_exclude_copies_passes_the_batch_copy_ids_to_the_loss(exclude):
    model = GraphCL(3, exclude_copies=exclude)
    model.loss = _Spy()
    model.training_step(_batch(with_ids=True))
    if exclude:
        assert model.loss.groups.tolist() == [0, 0, 2, 3]
    else:
        assert model.loss.groups is None


def test_exclude_copies_changes_the_loss():
    batch = _batch(with_ids=True)
    torch.manual_seed(0)
    plain = GraphCL(3)
    torch.manual_seed(0)
    masked = GraphCL(3, exclude_copies=True)
    a, _ = plain.training_step(batch, torch.Generator().manual_seed(1))
    b, _ = masked.training_step(batch, torch.Generator().manual_seed(1))
    assert torch.isfinite(b) and a.item() != pytest.approx(b.item())


def test_exclude_copies_errors():
    with pytest.raises(ValueError, match=r"^exclude_copies needs batch.copy_id: load the "
                                         r"dataset through graphsampler.data.copies."
                                         r"attach_copy_ids\(dataset\)$"):
        GraphCL(3, exclude_copies=True).training_step(_batch(with_ids=False))
    with pytest.raises(ValueError, match=r"^exclude_copies must be True or False, got 1$"):
        GraphCL(3, exclude_copies=1)
