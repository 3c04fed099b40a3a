r"""The proximity graph's sizes M and k: counts, fractions of N, and the floors a
fraction gets from the batch size (resolve_sizes)."""
import math

import pytest
import torch

from graphsampler.samplers import ProximityBatchSampler
from graphsampler.samplers._checks import resolve_count, resolve_sizes

N, B = 128, 16


def filled(sampler, emb):
    sampler.update(torch.arange(len(emb)), emb)
    return sampler


@pytest.mark.parametrize("value,n,expected", [(0.1, 1500, 150), (1.0, 188, 188),
                                              (0.001, 188, 1), (0.03, 1000, 30), (7, 10, 7)])
def test_resolve_count(value, n, expected):
    assert resolve_count(value, n, "x") == expected == max(1, math.ceil(round(value * n, 6))) \
        if isinstance(value, float) else resolve_count(value, n, "x") == expected


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1, float("nan")])
def test_fraction_errors(bad):
    with pytest.raises(ValueError, match=r"num_candidates given as a fraction of N must be "
                                         r"a float in \(0, 1\]"):
        ProximityBatchSampler(N, B, num_candidates=bad, num_neighbors=4)
    with pytest.raises(ValueError, match="num_neighbors given as a fraction"):
        ProximityBatchSampler(N, B, num_candidates=64, num_neighbors=bad)


def test_fractions_resolve_against_n():
    sampler = ProximityBatchSampler(1000, 32, num_candidates=0.1, num_neighbors=0.01)
    assert (sampler.num_candidates, sampler.num_neighbors) == (100, 10)
    exact = ProximityBatchSampler(200, 32, num_candidates=1.0, num_neighbors=0.05)
    assert (exact.num_candidates, exact.num_neighbors) == (200, 10)
    clamped = ProximityBatchSampler(1000, 4, num_candidates=0.01, num_neighbors=25)
    assert clamped.num_candidates == 26  # a fraction resolves to at least k + 1
    with pytest.raises(ValueError, match=r"num_neighbors \(10\) must be smaller than "
                                         r"num_candidates \(10\)"):
        ProximityBatchSampler(1000, 32, num_candidates=10, num_neighbors=10)


def test_defaults_are_the_study_fractions_and_work_on_tiny_datasets():
    sampler = ProximityBatchSampler(5000, 128)
    assert (sampler.num_candidates, sampler.num_neighbors) == (150, 15)
    tiny = filled(ProximityBatchSampler(10, 4, warmup_epochs=0), torch.randn(10, 3))
    assert (tiny.num_candidates, tiny.num_neighbors) == (10, 2)  # the floor, capped at N
    assert all(len(set(b)) == len(b) for b in tiny)


@pytest.mark.parametrize("n", [3, 10, 188, 405, 1000, 4110, 100_000])
@pytest.mark.parametrize("b", [2, 32, 128, 256])
def test_fractions_are_floored_by_the_batch_size(n, b):
    if b > n:
        return
    m, k = resolve_sizes(0.03, 0.003, n, b)
    root = next(r for r in range(1, b + 1) if r * r >= b)  # ceil(sqrt(B)) by search
    expect_k = max(math.ceil(0.003 * n - 1e-9), min(root, n - 2), 1)
    expect_m = min(max(math.ceil(0.03 * n - 1e-9), 10 * root), n)
    if expect_m <= expect_k < n - 1:
        expect_m = expect_k + 1
    assert (m, k) == (expect_m, expect_k)
    assert k < m <= n or n <= 2
    # counts are the user's: never floored
    assert resolve_sizes(3, 1, n, b) == (3, 1)


def test_small_dataset_defaults_are_walks_not_top_ups():
    # MUTAG's size: unfloored, M = 6 and k = 1 left most slots to uniform top-ups
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(20, 16, generator=gen)
    emb = centers[torch.randint(0, 20, (188,), generator=gen)] \
        + 0.3 * torch.randn(188, 16, generator=gen)
    sampler = filled(ProximityBatchSampler(188, 128, warmup_epochs=0), emb)
    assert (sampler.num_candidates, sampler.num_neighbors) == (120, 12)
    slots = sum(len(b) for b in sampler)
    assert sampler.stats["walk_filled"] < 0.1 * slots
