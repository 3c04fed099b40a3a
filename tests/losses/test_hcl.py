import math

import numpy as np
import pytest
import torch

from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss


def reference_hcl(z1: torch.Tensor, z2: torch.Tensor, temperature: float,
                  tau_plus: float, beta: float) -> float:
    """Robinson et al.'s hard-negative loss per anchor i, negatives z2_j (j != i),
    written from the paper's estimator in float64."""
    a, b = z1.double().numpy(), z2.double().numpy()
    batch_size = len(a)
    num_neg = batch_size - 1
    total = 0.0
    for i in range(batch_size):
        def sim(j: int) -> float:
            return float(a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j])))
        pos = math.exp(sim(i) / temperature)
        neg = [math.exp(sim(j) / temperature) for j in range(batch_size) if j != i]
        imp = [n ** beta for n in neg]
        reweight_neg = sum(w * n for w, n in zip(imp, neg)) / (sum(imp) / num_neg)
        ng = (reweight_neg - num_neg * tau_plus * pos) / (1 - tau_plus)
        ng = max(ng, num_neg * math.exp(-1 / temperature))
        total += -math.log(pos / (pos + ng))
    return total / batch_size


def views(batch_size: int, noise: float, seed: int, dim: int = 6,
          dtype: torch.dtype = torch.float64):
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(batch_size, dim, generator=gen, dtype=dtype)
    return z1, z1 + noise * torch.randn(batch_size, dim, generator=gen, dtype=dtype)


@pytest.mark.parametrize("batch_size", [2, 3, 8, 17])
@pytest.mark.parametrize("tau_plus", [0.0, 0.1])
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("noise", [0.3, 3.0])  # mostly clamped, mostly not
def test_matches_loop_reference(batch_size, tau_plus, beta, noise):
    z1, z2 = views(batch_size, noise=noise, seed=batch_size)
    loss = HCLLoss(0.2, tau_plus, beta)(z1, z2)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(reference_hcl(z1, z2, 0.2, tau_plus, beta),
                                        rel=1e-10, abs=1e-12)


def test_large_beta_small_temperature_does_not_overflow():
    # e^{(beta + 1) s} reaches e^{21 / 0.2} = e^105, past float32's range.
    z1, z2 = views(12, noise=0.5, seed=1, dtype=torch.float32)
    loss = HCLLoss(temperature=0.2, tau_plus=0.1, beta=20.0)(z1, z2)
    assert loss.item() == pytest.approx(reference_hcl(z1, z2, 0.2, 0.1, 20.0), rel=1e-4)
    loss = HCLLoss(temperature=0.005, tau_plus=0.1, beta=1.0)(z1, z2)
    assert loss.item() == pytest.approx(reference_hcl(z1, z2, 0.005, 0.1, 1.0), rel=1e-4)


@pytest.mark.parametrize("tau_plus", [0.0, 0.1, 0.5])
def test_beta_zero_is_dcl(tau_plus):
    z1, z2 = views(11, noise=1.0, seed=2)
    hcl = HCLLoss(0.3, tau_plus, beta=0.0)(z1, z2)
    assert hcl.item() == pytest.approx(DCLLoss(0.3, tau_plus)(z1, z2).item(), rel=1e-12)


def test_loss_grows_with_beta():
    # The reweighted negative mass is a mean weighted by e^{beta s_ij}, which moves
    # toward the largest negatives as beta grows (Chebyshev's sum inequality).
    z1, z2 = views(16, noise=3.0, seed=3)
    losses = [HCLLoss(0.5, 0.1, beta)(z1, z2).item() for beta in (0.0, 0.5, 1.0, 4.0)]
    assert all(a < b for a, b in zip(losses, losses[1:]))


def test_gradcheck():
    z1, z2 = views(5, noise=3.0, seed=4, dim=3)
    z1.requires_grad_()
    z2.requires_grad_()
    assert torch.autograd.gradcheck(HCLLoss(0.5, 0.1, 1.5), (z1, z2))


@pytest.mark.parametrize("scale", [1e-3, 3.0, 1e3])
def test_invariant_to_positive_scaling(scale):
    z1, z2 = views(9, noise=0.5, seed=5)
    loss_fn = HCLLoss()
    assert loss_fn(scale * z1, scale * z2).item() == pytest.approx(loss_fn(z1, z2).item())


@pytest.mark.parametrize("kwargs, match", [
    ({"beta": -0.5}, "beta must be a finite number >= 0"),
    ({"beta": float("inf")}, "beta must be a finite number >= 0"),
    ({"tau_plus": 1.5}, r"tau_plus must be in \[0, 1\)"),
    ({"temperature": 0.0}, "temperature must be a finite number > 0"),
])
def test_hyperparameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HCLLoss(**kwargs)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    z1, z2 = views(16, noise=0.3, seed=6, dtype=torch.float32)
    loss_fn = HCLLoss()
    cuda_loss = loss_fn(z1.cuda(), z2.cuda())
    assert cuda_loss.device.type == "cuda"
    assert cuda_loss.item() == pytest.approx(loss_fn(z1, z2).item(), rel=1e-5)
