import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.infonce import InfoNCELoss


def reference_dcl(z1: torch.Tensor, z2: torch.Tensor, temperature: float,
                  tau_plus: float) -> tuple[float, int]:
    """Chuang et al.'s debiased loss per anchor i, negatives z2_j (j != i), float64.
    Returns the loss and how many anchors hit the clamp N * e^(-1/T)."""
    a, b = z1.double().numpy(), z2.double().numpy()
    batch_size = len(a)
    num_neg = batch_size - 1
    total, clamped = 0.0, 0
    for i in range(batch_size):
        def sim(j: int) -> float:
            return float(a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j])))
        pos = math.exp(sim(i) / temperature)
        neg = sum(math.exp(sim(j) / temperature) for j in range(batch_size) if j != i)
        ng = (neg - num_neg * tau_plus * pos) / (1 - tau_plus)
        floor = num_neg * math.exp(-1 / temperature)
        clamped += ng < floor
        total += -math.log(pos / (pos + max(ng, floor)))
    return total / batch_size, clamped


def views(batch_size: int, noise: float, seed: int, dim: int = 6,
          dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(batch_size, dim, generator=gen, dtype=dtype)
    return z1, z1 + noise * torch.randn(batch_size, dim, generator=gen, dtype=dtype)


@pytest.mark.parametrize("batch_size", [2, 3, 8, 17])
@pytest.mark.parametrize("temperature", [0.2, 0.5])
@pytest.mark.parametrize("tau_plus", [0.0, 0.1, 0.5])
def test_matches_loop_reference(batch_size, temperature, tau_plus):
    z1, z2 = views(batch_size, noise=1.0, seed=batch_size)
    loss = DCLLoss(temperature, tau_plus)(z1, z2)
    expected, _ = reference_dcl(z1, z2, temperature, tau_plus)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("noise", [0.05, 0.4])
def test_matches_reference_when_clamped(noise):
    # Close positives make N * tau_plus * pos exceed the negative sum for some rows.
    z1, z2 = views(16, noise=noise, seed=7)
    expected, clamped = reference_dcl(z1, z2, 0.2, 0.1)
    assert 0 < clamped
    assert DCLLoss(0.2, 0.1)(z1, z2).item() == pytest.approx(expected, rel=1e-10)


def test_small_temperature_does_not_overflow():
    z1, z2 = views(12, noise=0.3, seed=8, dtype=torch.float32)
    loss = DCLLoss(temperature=0.005, tau_plus=0.1)(z1, z2)
    expected, _ = reference_dcl(z1, z2, 0.005, 0.1)
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_tau_plus_zero_is_cross_entropy_over_each_row():
    # With tau_plus = 0 the clamp never binds (every e^{s_ij} >= e^{-1/T}), so DCL is
    # -log(e^{s_ii} / sum_j e^{s_ij}): cross-entropy of row i against column i.
    z1, z2 = views(10, noise=0.5, seed=9)
    logits = F.cosine_similarity(z1[:, None], z2[None], dim=-1) / 0.2
    expected = F.cross_entropy(logits, torch.arange(10))
    assert DCLLoss(0.2, 0.0)(z1, z2).item() == pytest.approx(expected.item(), rel=1e-10)


def test_tau_plus_zero_is_softplus_of_infonce_per_anchor():
    # Per anchor, log(1 + neg / pos) = softplus(GraphCL's -log(pos / neg)). Cyclic
    # views give every anchor the same loss, so the identity holds for the means.
    batch_size, theta = 7, 0.6
    z1 = torch.eye(batch_size, dtype=torch.float64)
    z2 = math.cos(theta) * z1 + math.sin(theta) * z1.roll(1, dims=1)
    infonce = InfoNCELoss(0.2)(z1, z2)
    dcl = DCLLoss(0.2, tau_plus=0.0)(z1, z2)
    assert dcl.item() == pytest.approx(F.softplus(infonce).item(), rel=1e-12)


@pytest.mark.parametrize("noise, num_clamped", [(10.0, 0), (0.05, 3)])
def test_gradcheck(noise, num_clamped):
    z1, z2 = views(5, noise=noise, seed=10, dim=3)
    assert reference_dcl(z1, z2, 0.3, 0.1)[1] == num_clamped  # both regimes covered
    z1.requires_grad_()
    z2.requires_grad_()
    assert torch.autograd.gradcheck(DCLLoss(0.3, 0.1), (z1, z2))


@pytest.mark.parametrize("scale", [1e-3, 3.0, 1e3])
def test_invariant_to_positive_scaling(scale):
    z1, z2 = views(9, noise=0.5, seed=11)
    loss_fn = DCLLoss()
    assert loss_fn(scale * z1, scale * z2).item() == pytest.approx(loss_fn(z1, z2).item())


@pytest.mark.parametrize("kwargs, match", [
    ({"tau_plus": -0.1}, r"tau_plus must be in \[0, 1\)"),
    ({"tau_plus": 1.0}, r"tau_plus must be in \[0, 1\)"),
    ({"tau_plus": float("nan")}, r"tau_plus must be in \[0, 1\)"),
    ({"temperature": 0.0}, "temperature must be a finite number > 0"),
    ({"temperature": -1.0}, "temperature must be a finite number > 0"),
])
def test_hyperparameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DCLLoss(**kwargs)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    z1, z2 = views(16, noise=0.3, seed=13, dtype=torch.float32)
    loss_fn = DCLLoss()
    cuda_loss = loss_fn(z1.cuda(), z2.cuda())
    assert cuda_loss.device.type == "cuda"
    assert cuda_loss.item() == pytest.approx(loss_fn(z1, z2).item(), rel=1e-5)
