import pytest

from graphsampler.experiment import RunConfig


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="simclr"), r"unknown method 'simclr'; choose one of \['graphcl', 'mvgrl'\]"),
    (dict(method="mvgrl"), "mvgrl takes the loss jsd, got 'infonce'"),
    (dict(sampler="random"), r"unknown sampler 'random'; choose one of \['uniform', 'knn', 'proximity'\]"),
    (dict(precision="fp16"), r"unknown precision 'fp16'; choose one of \['fp32', 'bf16'\]"),
])
def test_run_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**kwargs)


def test_precision_is_part_of_the_run_key():
    assert RunConfig().precision == "fp32"
    assert RunConfig(precision="bf16").key() != RunConfig().key()
