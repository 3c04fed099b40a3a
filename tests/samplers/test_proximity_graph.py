import pytest
import torch
import torch.nn.functional as F

from graphsampler.samplers.proximity_graph import (
    ANCHORS_PER_DRAW,
    build_proximity_graph,
    draw_candidates,
)


def brute_force_topk(emb: torch.Tensor, anchor: int, cand: torch.Tensor, k: int) -> set[int]:
    e = F.normalize(emb.double(), dim=1)
    cand = cand[cand != anchor]
    return set(cand[(e[cand] @ e[anchor]).topk(k).indices].tolist())


@pytest.mark.parametrize("n,m", [(500, 100), (300, 200), (1000, 40)])
def test_graph_equals_brute_force_topk_over_same_draw(n, m):
    gen = torch.Generator().manual_seed(n + m)
    emb = torch.randn(n, 8, generator=gen)
    nbr, cand = build_proximity_graph(emb, 10, m, generator=gen, return_candidates=True,
                                      memory_budget=50_000)  # several chunks
    assert nbr.shape == (n, 10) and nbr.dtype == torch.long
    assert cand.shape == (-(-n // ANCHORS_PER_DRAW), m)
    for i in range(n):
        assert set(nbr[i].tolist()) == brute_force_topk(emb, i, cand[i // ANCHORS_PER_DRAW], 10)


def test_rows_are_distinct_and_never_self():
    emb = torch.randn(400, 6)
    emb[::7] = emb[0]  # ties: duplicated instances must still not link to themselves
    nbr = build_proximity_graph(emb, 12, 100)
    assert (nbr != torch.arange(400)[:, None]).all()
    assert all(len(set(r)) == 12 for r in nbr.tolist())


@pytest.mark.parametrize("m", [50, 51, 1000])
def test_m_at_least_n_gives_exact_knn(m):
    emb = torch.randn(50, 5)
    nbr = build_proximity_graph(emb, 7, m, memory_budget=2_000)
    for i in range(50):
        assert set(nbr[i].tolist()) == brute_force_topk(emb, i, torch.arange(50), 7)


@pytest.mark.parametrize("n,m", [(1000, 100), (300, 200)])  # sparse and dense regimes
def test_candidates_distinct_and_uniform(n, m):
    gen = torch.Generator().manual_seed(0)
    cand = draw_candidates(400, n, m, gen)
    assert cand.shape == (400, m)
    assert (cand[:, 1:] > cand[:, :-1]).all()  # sorted and distinct
    assert cand.min() >= 0 and cand.max() < n
    counts = torch.bincount(cand.view(-1), minlength=n).double()
    expected = 400 * m / n
    # each count is Binomial(400, m/n): allow 6 standard deviations
    sd = (400 * (m / n) * (1 - m / n)) ** 0.5
    assert (counts - expected).abs().max() < 6 * sd


def test_small_m_gives_near_uniform_neighbors_large_m_gives_near_ones():
    gen = torch.Generator().manual_seed(1)
    emb = torch.randn(2000, 16, generator=gen)
    e = F.normalize(emb, dim=1)
    mean_sim = {m: (e[build_proximity_graph(emb, 5, m, generator=gen)] * e[:, None])
                .sum(-1).mean().item() for m in (10, 2000)}
    assert mean_sim[10] < mean_sim[2000] - 0.2


def test_memory_budget_does_not_change_result_exact():
    emb = torch.randn(120, 4)
    a = build_proximity_graph(emb, 5, 500, memory_budget=1)
    b = build_proximity_graph(emb, 5, 500)
    assert torch.equal(a, b)


def test_errors():
    emb = torch.randn(20, 3)
    with pytest.raises(ValueError, match="2-D tensor"):
        build_proximity_graph(torch.randn(20), 2, 5)
    with pytest.raises(ValueError, match="smaller than num_candidates=5"):
        build_proximity_graph(emb, 5, 5)
    with pytest.raises(ValueError, match="number of instances N=20"):
        build_proximity_graph(emb, 20, 100)
    with pytest.raises(ValueError, match="num_neighbors must be >= 1"):
        build_proximity_graph(emb, 0, 5)
    with pytest.raises(ValueError, match="num_candidates must be >= 1"):
        build_proximity_graph(emb, 2, 0)
    bad = emb.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf"):
        build_proximity_graph(bad, 2, 5)
