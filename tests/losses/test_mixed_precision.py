import pytest
import torch

from graphsampler.losses import DCLLoss, HCLLoss, InfoNCELoss, local_global_jsd
from graphsampler.precision import training_autocast

BATCH = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3])


def jsd(local, global_):
    return local_global_jsd(local, global_, BATCH)


@pytest.mark.parametrize("loss_fn", [InfoNCELoss(), DCLLoss(), HCLLoss(), jsd],
                         ids=["infonce", "dcl", "hcl", "jsd"])
def test_bfloat16_inputs_under_autocast_give_the_float32_loss(loss_fn):
    gen = torch.Generator().manual_seed(0)
    rows = (8, 4) if loss_fn is jsd else (6, 6)
    a = torch.randn(rows[0], 16, generator=gen).bfloat16().requires_grad_()
    b = torch.randn(rows[1], 16, generator=gen).bfloat16()
    expected = loss_fn(a.detach().float(), b.float())  # float32 inputs, no autocast
    with training_autocast(torch.device("cpu"), "bf16"):
        loss = loss_fn(a, b)
    assert loss.dtype == torch.float32
    assert torch.equal(loss.detach(), expected)  # the scores were not rounded to bf16
    loss.backward()
    assert a.grad.dtype == torch.bfloat16 and torch.isfinite(a.grad).all()
