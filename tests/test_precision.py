import pytest
import torch

from graphsampler.precision import (
    PRECISIONS,
    accumulation_dtype,
    check_precision,
    float32_loss,
    training_autocast,
)

torch.set_num_threads(1)  # faster here than two threads contending for BLAS


def test_check_precision():
    for precision in PRECISIONS:
        assert check_precision(precision) == precision
    with pytest.raises(ValueError,
                       match=r"unknown precision 'fp16'; choose one of \['fp32', 'bf16'\]"):
        check_precision("fp16")


def test_training_autocast_turns_bfloat16_matmuls_on_only_for_bf16():
    a, b = torch.randn(4, 3), torch.randn(3, 2)
    with training_autocast(torch.device("cpu"), "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with training_autocast(torch.device("cpu"), "fp32"):
        assert (a @ b).dtype == torch.float32
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        training_autocast(torch.device("cpu"), "half")


def test_accumulation_dtype():
    assert accumulation_dtype(torch.bfloat16) == torch.float32
    assert accumulation_dtype(torch.float16) == torch.float32
    assert accumulation_dtype(torch.float32) == torch.float32
    assert accumulation_dtype(torch.float64) == torch.float64


@float32_loss
def gram_mean(x, y, *, scale):
    return (x @ y.t()).mean() * scale


def test_float32_loss_upcasts_inputs_and_switches_autocast_off():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 7, generator=gen).bfloat16().requires_grad_()
    y = torch.randn(5, 7, generator=gen).bfloat16()
    expected = (x.detach().float() @ y.float().t()).mean() * 2.0  # float32 oracle
    with training_autocast(torch.device("cpu"), "bf16"):
        loss = gram_mean(x, y, scale=2.0)
        assert (x.float() @ y.float().t()).dtype == torch.bfloat16  # autocast is on here
    assert loss.dtype == torch.float32
    assert torch.equal(loss.detach(), expected)  # not one bfloat16 rounding in between
    loss.backward()
    assert x.grad.dtype == torch.bfloat16


def test_float32_loss_leaves_float32_and_float64_inputs_alone():
    x = torch.randn(3, 2, dtype=torch.float64)
    assert gram_mean(x, x, scale=1.0).dtype == torch.float64
    x32 = x.float()
    assert torch.equal(gram_mean(x32, x32, scale=1.0), (x32 @ x32.t()).mean())
