import argparse

import pytest

from graphsampler.bench.config import RunConfig
from graphsampler.cli import add_run_arguments


def test_copy_and_band_settings_reach_the_method_and_sampler():
    config = RunConfig(sampler="proximity", exclude_copies=True, dedupe_copies=True,
                       neighbor_offset=2, num_candidates=40, num_neighbors=4)
    settings = config.settings()
    assert settings["exclude_copies"] is True and settings["dedupe_copies"] is True
    assert settings["neighbor_offset"] == 2
    assert config.build_method(3).exclude_copies is True
    sampler = config.build_sampler(300)
    assert sampler.dedupe_copies is True and sampler.neighbor_offset == 2
    # options of other methods and samplers are left out, as augmentation is for MVGRL
    assert "dedupe_copies" not in RunConfig(sampler="uniform", dedupe_copies=True).settings()
    assert "exclude_copies" not in RunConfig(method="mvgrl", exclude_copies=True).settings()


def test_bool_settings_are_checked():
    with pytest.raises(ValueError, match=r"^exclude_copies must be bool, got 1$"):
        RunConfig(exclude_copies=1)
    with pytest.raises(ValueError, match=r"^batch_size must be int, got True$"):
        RunConfig(batch_size=True)
    with pytest.raises(ValueError, match=r"neighbor_offset \+ num_neighbors \(4 \+ 4\)"):
        RunConfig(sampler="proximity", neighbor_offset=4, num_candidates=8, num_neighbors=4)


def test_bool_flags_are_switches():
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    args = parser.parse_args(["--exclude-copies", "--dedupe-copies", "--neighbor-offset", "3"])
    assert args.exclude_copies is True and args.dedupe_copies is True
    assert args.neighbor_offset == 3
    default = parser.parse_args([])
    assert default.exclude_copies is False and default.dedupe_copies is False


def test_bool_flag_takes_no_value(capsys):
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--exclude-copies", "maybe"])
    assert "unrecognized arguments: maybe" in capsys.readouterr().err
