import pytest
import torch

from graphsampler.samplers.bank import EmbeddingBank


def test_update_writes_rows_and_tracks_fill():
    bank = EmbeddingBank(5)
    assert bank.num_filled == 0 and not bank.is_full and bank.dim is None
    bank.update(torch.tensor([4, 1]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert bank.dim == 2 and bank.num_filled == 2
    assert bank.embeddings[4].tolist() == [1.0, 2.0] and bank.embeddings[1].tolist() == [3.0, 4.0]
    assert bank.filled.tolist() == [False, True, False, False, True]
    bank.update(torch.tensor([0, 2, 3, 4]), torch.zeros(4, 2))
    assert bank.is_full and bank.embeddings[4].tolist() == [0.0, 0.0]


def test_update_detaches():
    bank = EmbeddingBank(2)
    z = torch.randn(2, 3, requires_grad=True)
    bank.update(torch.tensor([0, 1]), z * 2)
    assert not bank.embeddings.requires_grad


def test_state_dict_round_trip():
    bank = EmbeddingBank(3)
    bank.update(torch.tensor([2]), torch.tensor([[7.0]]))
    other = EmbeddingBank(3)
    other.load_state_dict(bank.state_dict())
    assert torch.equal(other.embeddings, bank.embeddings)
    assert other.filled.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="state is for 3 instances, this bank has 4"):
        EmbeddingBank(4).load_state_dict(bank.state_dict())


def test_errors():
    with pytest.raises(ValueError, match="num_items must be a positive int"):
        EmbeddingBank(0)
    bank = EmbeddingBank(3)
    with pytest.raises(ValueError, match="the bank is empty"):
        bank.embeddings
    with pytest.raises(ValueError, match=r"2-D tensor \[b, d\]"):
        bank.update(torch.tensor([0]), torch.randn(3))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        bank.update(torch.tensor([3]), torch.randn(1, 2))
    with pytest.raises(ValueError, match="integer tensor"):
        bank.update(torch.tensor([0.0]), torch.randn(1, 2))
    with pytest.raises(ValueError, match="2 indices but 1 embedding rows"):
        bank.update(torch.tensor([0, 1]), torch.randn(1, 2))
    with pytest.raises(ValueError, match="NaN or Inf"):
        bank.update(torch.tensor([0]), torch.tensor([[float("inf"), 0.0]]))
    bank.update(torch.tensor([0]), torch.randn(1, 2))
    with pytest.raises(ValueError, match="width changed from 2 to 4"):
        bank.update(torch.tensor([1]), torch.randn(1, 4))
