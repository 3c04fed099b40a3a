import math

import pytest
import torch

from graphsampler.eval import batch_hardness


def _loop_reference(z: torch.Tensor, labels: torch.Tensor | None) -> dict[str, float]:
    # Every ordered pair i != j, cosine written out from its definition.
    rows = z.double().tolist()
    norms = [max(math.sqrt(sum(v * v for v in r)), 1e-12) for r in rows]
    cos, same = [], []
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i == j:
                continue
            dot = sum(a * b for a, b in zip(rows[i], rows[j]))
            cos.append(dot / (norms[i] * norms[j]))
            if labels is not None:
                same.append(float(labels[i] == labels[j]))
    out = {"neg_cos_mean": sum(cos) / len(cos), "neg_cos_max": max(cos),
           "twin_rate": sum(c >= 0.999 for c in cos) / len(cos)}
    if labels is not None:
        out["false_negative_rate"] = sum(same) / len(same)
    return out


@pytest.mark.parametrize("size,dim", [(2, 3), (7, 5), (16, 4)])
def test_matches_loop_reference(size: int, dim: int) -> None:
    gen = torch.Generator().manual_seed(size)
    z = torch.randn(size, dim, generator=gen) * torch.rand(size, 1, generator=gen) * 5
    labels = torch.randint(0, 3, (size, ), generator=gen)
    got, want = batch_hardness(z, labels), _loop_reference(z, labels)
    assert got.keys() == want.keys()
    z[-1] = z[0] * 2  # a twin pair, so twin_rate is not trivially 0
    got, want = batch_hardness(z, labels), _loop_reference(z, labels)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-6), key


def test_without_labels_has_no_false_negative_rate() -> None:
    z = torch.randn(5, 3)
    assert set(batch_hardness(z)) == {"neg_cos_mean", "neg_cos_max", "twin_rate"}


def test_twin_rate_counts_copies() -> None:
    z = torch.randn(4, 8, dtype=torch.float64)
    z = torch.cat([z, z[:2], 3 * z[:1]])  # rows 4, 5, 6 copy rows 0, 1, 0 (scaled)
    # twin ordered pairs: (0,4),(0,6),(4,6),(1,5) both ways = 8 of 7 * 6
    assert batch_hardness(z)["twin_rate"] == pytest.approx(8 / 42)
    assert batch_hardness(torch.eye(5))["twin_rate"] == 0.0


def test_invariants() -> None:
    z = torch.randn(6, 4)
    scale = torch.tensor([0.1, 1.0, 3.0, 10.0, 0.5, 2.0]).unsqueeze(1)
    # cosine ignores the norm of each row
    assert batch_hardness(z * scale)["neg_cos_mean"] == pytest.approx(
        batch_hardness(z)["neg_cos_mean"], abs=1e-6)
    # a batch of copies is maximally hard; +-z pairs are the easiest
    same = batch_hardness(z[:1].repeat(4, 1))
    assert same["neg_cos_mean"] == pytest.approx(1.0) and same["neg_cos_max"] == (
        pytest.approx(1.0))
    assert batch_hardness(torch.cat([z[:1], -z[:1]]))["neg_cos_max"] == pytest.approx(-1)
    assert batch_hardness(z, torch.zeros(6))["false_negative_rate"] == 1.0
    assert batch_hardness(z, torch.arange(6))["false_negative_rate"] == 0.0
    # two classes of 2 and 4: (2*1 + 4*3) same-class ordered pairs of 6*5
    labels = torch.tensor([0, 1, 1, 0, 1, 1])
    assert batch_hardness(z, labels)["false_negative_rate"] == pytest.approx(14 / 30)


def test_zero_rows_have_cosine_zero() -> None:
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    stats = batch_hardness(z)
    assert stats["neg_cos_mean"] == 0.0 and stats["neg_cos_max"] == 0.0


def test_errors() -> None:
    with pytest.raises(ValueError, match=r"B >= 2 \(a batch of one"):
        batch_hardness(torch.randn(1, 4))
    with pytest.raises(ValueError, match=r"\[B, d\] batch"):
        batch_hardness(torch.randn(4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        batch_hardness(torch.tensor([[0.0, 1.0], [float("inf"), 0.0]]))
    with pytest.raises(ValueError, match=r"one label per row of z, shape \(3,\)"):
        batch_hardness(torch.randn(3, 2), torch.zeros(4))


@pytest.mark.cuda
def test_cuda_matches_cpu() -> None:
    z, labels = torch.randn(32, 8), torch.randint(0, 4, (32, ))
    got = batch_hardness(z.cuda(), labels.cuda())
    want = batch_hardness(z, labels)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-5), key
