import math

import numpy as np
import pytest
import torch

from graphsampler.losses.dcl import DCLLoss
from graphsampler.losses.hcl import HCLLoss
from graphsampler.losses.infonce import InfoNCELoss

T = 0.2


def reference(z1: torch.Tensor, z2: torch.Tensor, groups: list[int], kind: str,
              tau_plus: float = 0.1, beta: float = 1.0) -> float:
    """Each loss per anchor i from its paper's formula, in float64 loops, the negatives
    being the rows j != i of another group; anchors left with none are skipped."""
    a, b = z1.detach().double().numpy(), z2.detach().double().numpy()
    terms = []
    for i in range(len(a)):
        def s(j: int) -> float:
            return float(a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j]))) / T
        neg = [math.exp(s(j)) for j in range(len(a)) if j != i and groups[j] != groups[i]]
        if not neg:
            continue
        pos, n = math.exp(s(i)), len(neg)
        if kind == "infonce":
            terms.append(-math.log(pos / sum(neg)))
            continue
        if kind == "hcl":
            imp = [x ** beta for x in neg]
            mass = sum(w * x for w, x in zip(imp, neg)) / (sum(imp) / n)
        else:
            mass = sum(neg)
        ng = max((mass - n * tau_plus * pos) / (1 - tau_plus), n * math.exp(-1 / T))
        terms.append(-math.log(pos / (pos + ng)))
    return sum(terms) / len(terms)


LOSSES = {"infonce": lambda: InfoNCELoss(T), "dcl": lambda: DCLLoss(T, 0.1),
          "hcl": lambda: HCLLoss(T, 0.1, 1.0)}


def views(batch_size: int, seed: int, noise: float = 0.5):
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(batch_size, 6, generator=gen, dtype=torch.float64)
    return z1, z1 + noise * torch.randn(batch_size, 6, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("kind", list(LOSSES))
@pytest.mark.parametrize("batch_size,num_groups", [(3, 2), (8, 3), (17, 5), (17, 17)])
@pytest.mark.parametrize("noise", [0.3, 3.0])
def test_copies_are_no_negatives_as_the_loop_reference(kind, batch_size, num_groups, noise):
    z1, z2 = views(batch_size, seed=batch_size + num_groups, noise=noise)
    groups = torch.randint(num_groups, (batch_size,),
                           generator=torch.Generator().manual_seed(num_groups))
    loss = LOSSES[kind]()(z1, z2, groups)
    assert loss.item() == pytest.approx(reference(z1, z2, groups.tolist(), kind),
                                        rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_distinct_groups_change_nothing_and_copies_do(kind):
    z1, z2 = views(9, seed=3)
    loss_fn = LOSSES[kind]()
    assert loss_fn(z1, z2, torch.arange(9) * 7).item() == pytest.approx(
        loss_fn(z1, z2).item(), rel=1e-12)
    groups = torch.tensor([0, 0, 1, 2, 3, 4, 5, 6, 7])
    assert loss_fn(z1, z2, groups).item() != pytest.approx(loss_fn(z1, z2).item())


@pytest.mark.parametrize("kind", list(LOSSES))
def test_anchors_without_negatives_are_left_out_with_finite_gradients(kind):
    z1, z2 = views(5, seed=4)
    z1.requires_grad_(True)
    groups = torch.tensor([2, 2, 2, 2, 9])  # anchor 4 keeps 4 negatives, the others 1
    loss = LOSSES[kind]()(z1, z2, groups)
    loss.backward()
    assert torch.isfinite(z1.grad).all()
    assert loss.item() == pytest.approx(reference(z1, z2, groups.tolist(), kind), rel=1e-10)
    z1.grad = None
    loss = LOSSES[kind]()(z1, z2, torch.zeros(5, dtype=torch.long))  # all copies
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(z1.grad, torch.zeros_like(z1))


@pytest.mark.parametrize("kind", list(LOSSES))
def test_gradcheck_with_groups(kind):
    z1, z2 = views(6, seed=5)
    groups = torch.tensor([0, 0, 1, 1, 2, 3])
    loss_fn = LOSSES[kind]()
    assert torch.autograd.gradcheck(lambda a, b: loss_fn(a, b, groups),
                                    (z1.requires_grad_(), z2.requires_grad_()))


@pytest.mark.parametrize("groups,shown", [
    (torch.zeros(3), r"\(3,\)"),           # float ids
    (torch.zeros(4, dtype=torch.long), r"\(4,\)"),
    (torch.zeros(3, 1, dtype=torch.long), r"\(3, 1\)"),
    ([0, 1, 2], "list"),
])
@pytest.mark.parametrize("kind", list(LOSSES))
def test_bad_groups_are_refused(kind, groups, shown):
    z1, z2 = views(3, seed=0)
    with pytest.raises(ValueError, match=r"^groups must be an integer tensor of shape "
                                         r"\[batch_size\] = \[3\] \(the copy-class id of "
                                         rf"each row\), got {shown}$"):
        LOSSES[kind]()(z1, z2, groups)


@pytest.mark.cuda
@pytest.mark.parametrize("kind", list(LOSSES))
def test_cuda_matches_cpu_with_groups(kind):
    z1, z2 = views(12, seed=6)
    groups = torch.tensor([0, 0, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7])
    loss_fn = LOSSES[kind]()
    expected = loss_fn(z1, z2, groups)
    got = loss_fn(z1.cuda(), z2.cuda(), groups.cuda())
    assert got.item() == pytest.approx(expected.item(), rel=1e-9)
