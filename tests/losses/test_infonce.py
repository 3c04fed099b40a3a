import math

import numpy as np
import pytest
import torch

from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss
from graphsampler.losses.infonce import InfoNCELoss


def reference_infonce(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> float:
    """GraphCL's loss_cal written out per anchor i and candidate j, in float64."""
    a, b = z1.double().numpy(), z2.double().numpy()
    batch_size = len(a)
    total = 0.0
    for i in range(batch_size):
        def sim(j: int) -> float:
            return float(a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j])))
        pos = math.exp(sim(i) / temperature)
        neg = sum(math.exp(sim(j) / temperature) for j in range(batch_size) if j != i)
        total += -math.log(pos / neg)
    return total / batch_size


@pytest.mark.parametrize("batch_size", [2, 3, 8, 17])
@pytest.mark.parametrize("temperature", [0.2, 0.5, 1.0])
def test_matches_loop_reference(batch_size, temperature):
    gen = torch.Generator().manual_seed(batch_size)
    z1 = torch.randn(batch_size, 6, generator=gen, dtype=torch.float64)
    z2 = z1 + 0.7 * torch.randn(batch_size, 6, generator=gen, dtype=torch.float64)
    loss = InfoNCELoss(temperature)(z1, z2)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(reference_infonce(z1, z2, temperature),
                                        rel=1e-10, abs=1e-12)


def test_float32_matches_reference():
    gen = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(2, 32, 16, generator=gen)
    loss = InfoNCELoss()(z1, z2)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(reference_infonce(z1, z2, 0.2), rel=1e-5)


def test_small_temperature_does_not_overflow():
    # exp(1 / 0.005) = exp(200) overflows float32, the naive formula gives nan.
    gen = torch.Generator().manual_seed(1)
    z1 = torch.randn(12, 8, generator=gen)
    z2 = z1 + 0.05 * torch.randn(12, 8, generator=gen)
    naive = torch.exp(torch.nn.functional.cosine_similarity(
        z1[:, None], z2[None], dim=-1) / 0.005)
    assert not torch.isfinite(naive).all()
    loss = InfoNCELoss(temperature=0.005)(z1, z2)
    assert loss.item() == pytest.approx(reference_infonce(z1, z2, 0.005), rel=1e-4)


def test_gradcheck():
    gen = torch.Generator().manual_seed(2)
    z1 = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    z2 = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(InfoNCELoss(0.3), (z1, z2))


@pytest.mark.parametrize("scale", [1e-3, 3.0, 1e3])
def test_invariant_to_positive_scaling(scale):
    gen = torch.Generator().manual_seed(3)
    z1, z2 = torch.randn(2, 9, 4, generator=gen, dtype=torch.float64)
    loss_fn = InfoNCELoss()
    assert loss_fn(scale * z1, z2).item() == pytest.approx(loss_fn(z1, z2).item())
    assert loss_fn(z1, scale * z2).item() == pytest.approx(loss_fn(z1, z2).item())


def aligned_views(t: float, batch_size: int = 6, dim: int = 10):
    """Views where only cos(z1_0, z2_0) = t depends on t: z2_0 is orthogonal to every
    other z2_j, and z1_0 = t * z2_0 + sqrt(1 - t^2) * r with r orthogonal to all z2."""
    gen = torch.Generator().manual_seed(4)
    z2 = torch.randn(batch_size, dim, generator=gen, dtype=torch.float64)
    u = z2[0] / z2[0].norm()
    z2[1:] -= (z2[1:] @ u)[:, None] * u
    q, _ = torch.linalg.qr(torch.cat([z2.t(), torch.randn(dim, 1, generator=gen,
                                                          dtype=torch.float64)], 1))
    r = q[:, batch_size]  # orthogonal to every row of z2
    z1 = torch.randn(batch_size, dim, generator=gen, dtype=torch.float64)
    z1[0] = t * u + math.sqrt(1 - t * t) * r
    return z1, z2


def test_loss_decreases_as_positive_gets_closer():
    temperature, batch_size = 0.2, 6
    losses = [InfoNCELoss(temperature)(*aligned_views(t, batch_size)).item()
              for t in (-0.5, 0.0, 0.4, 0.9)]
    assert all(a > b for a, b in zip(losses, losses[1:]))
    # Row 0 is -t / T + log(B - 1) exactly; the other rows do not depend on t.
    assert losses[3] - losses[2] == pytest.approx(-(0.9 - 0.4) / temperature / batch_size)


@pytest.mark.parametrize("loss_fn", [DCLLoss(0.2, 0.1), DCLLoss(0.5, 0.3),
                                     HCLLoss(0.2, 0.1, 1.0), HCLLoss(0.5, 0.3, 3.0)])
def test_debiased_losses_decrease_as_positive_gets_closer(loss_fn):
    # Row 0 has s_0j = 0 for j != 0, so its debiased negative term N^g can only
    # shrink as the positive grows: -log(p / (p + N^g)) strictly decreases.
    losses = [loss_fn(*aligned_views(t)).item() for t in (-0.5, 0.0, 0.4, 0.9)]
    assert all(a > b for a, b in zip(losses, losses[1:]))


def test_temperature_error():
    for bad in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            InfoNCELoss(temperature=bad)


# The input checks are shared by the three losses, so they are tested once, here.
@pytest.mark.parametrize("loss_cls", [InfoNCELoss, DCLLoss, HCLLoss])
@pytest.mark.parametrize("z1, z2, match", [
    (torch.zeros(4, 3, dtype=torch.long), torch.zeros(4, 3), "must be a floating-point"),
    (torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.long), "must be a floating-point"),
    ([[1.0, 2.0]], torch.zeros(1, 2), "must be a torch.Tensor"),
    (torch.zeros(4), torch.zeros(4), r"must be 2-D with shape \[batch_size, dim\]"),
    (torch.zeros(4, 3, 1), torch.zeros(4, 3, 1), "must be 2-D"),
    (torch.zeros(4, 3), torch.zeros(5, 3), "must have the same shape"),
    (torch.zeros(4, 3), torch.zeros(4, 2), "must have the same shape"),
    (torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.float64),
     "must share dtype and device"),
    (torch.ones(1, 3), torch.ones(1, 3), "at least 2 instances"),
    (torch.zeros(4, 0), torch.zeros(4, 0), "at least one feature column"),
    (torch.tensor([[1.0, float("nan")], [1.0, 2.0]]), torch.ones(2, 2),
     "only finite values"),
    (torch.ones(2, 2), torch.tensor([[1.0, float("inf")], [1.0, 2.0]]),
     "only finite values"),
])
def test_input_errors(loss_cls, z1, z2, match):
    with pytest.raises(ValueError, match=match):
        loss_cls()(z1, z2)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    z1, z2 = torch.randn(2, 16, 8, generator=torch.Generator().manual_seed(5))
    loss_fn = InfoNCELoss()
    cuda_loss = loss_fn(z1.cuda(), z2.cuda())
    assert cuda_loss.device.type == "cuda"
    assert cuda_loss.item() == pytest.approx(loss_fn(z1, z2).item(), rel=1e-5)
