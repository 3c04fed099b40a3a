import pytest
import torch

from graphsampler.nn.heads import MLPShortcutHead


def randomise(module: torch.nn.Module, seed: int) -> None:
    """Nonzero biases and distinct PReLU slopes, so the oracle checks them too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.5)


def test_mlp_shortcut_head_reset_parameters():
    head = MLPShortcutHead(4, 6)
    randomise(head, 6)
    head.reset_parameters()
    for act in (head.mlp[1], head.mlp[3], head.mlp[5]):
        assert act.weight.item() == pytest.approx(0.25)


def test_mlp_shortcut_head_matches_formula():
    head = MLPShortcutHead(6, 4)
    randomise(head, 7)
    x = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(8))
    h = x
    for linear, act in ((head.mlp[0], head.mlp[1]), (head.mlp[2], head.mlp[3]),
                        (head.mlp[4], head.mlp[5])):
        z = h @ linear.weight.t() + linear.bias
        h = torch.where(z >= 0, z, act.weight * z)
    expected = h + x @ head.shortcut.weight.t() + head.shortcut.bias
    out = head(x)
    assert out.shape == (2, 3, 4)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_mlp_shortcut_head_errors():
    with pytest.raises(ValueError, match="out_channels must be a positive int"):
        MLPShortcutHead(3, 0)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        MLPShortcutHead(2.0, 3)
    head = MLPShortcutHead(5, 3)
    x = torch.randn(4, 5)
    with pytest.raises(ValueError, match=r"x must be a floating-point tensor of shape "
                                         r"\[\.\.\., 5\]"):
        head(x[:, :4])
    with pytest.raises(ValueError, match="x must be a floating-point"):
        head(x.long())
