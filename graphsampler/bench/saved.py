r"""A trained model on disk: its state dict and the run settings that rebuild it.

``graphsampler train --save-model PATH`` writes one; :func:`load_model` reads it back
in one line, as the method (:class:`~graphsampler.methods.ContrastiveMethod`) that was
evaluated, in evaluation mode: ``method.embed(batch)`` embeds new graphs, and
``method.encoder`` is the encoder.

Example:
    .. code-block:: python

        method = load_model("runs/mutag-model.pt")
        method.encoder
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from graphsampler.bench.config import RunConfig
from graphsampler.methods.base import ContrastiveMethod

FORMAT = "graphsampler-model/1"


def save_model(method: ContrastiveMethod, config: RunConfig, num_features: int,
               path: str | os.PathLike[str]) -> Path:
    r"""Writes ``method``'s state dict with ``config``'s settings and the number of
    node features, atomically (a temporary file renamed into place).

    Args:
        method (ContrastiveMethod): The trained method.
        config (RunConfig): The run that trained it (:meth:`RunConfig.settings`).
        num_features (int): Node features of the graphs it takes.
        path (str or os.PathLike): The file to write.
    """
    path = Path(path)
    state = {"format": FORMAT, "config": config.settings(), "num_features": num_features,
             "state_dict": {k: v.detach().cpu() for k, v in method.state_dict().items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_model(path: str | os.PathLike[str],
               map_location: torch.device | str = "cpu") -> ContrastiveMethod:
    r"""The method that :func:`save_model` (``train --save-model``) wrote, rebuilt
    from its settings with its trained weights, in evaluation mode.

    Args:
        path (str or os.PathLike): The saved model.
        map_location (torch.device or str): Where its tensors go. (default: :obj:`"cpu"`)

    Raises:
        ValueError: A one-line message when the file is no saved model.

    Example:
        .. code-block:: python

            method = load_model("model.pt")
            z = method.embed(batch)
    """
    try:
        state: Any = torch.load(path, map_location=map_location, weights_only=True)
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"it is no {FORMAT} file")
        config = RunConfig.from_record(state["config"])
        method = config.build_method(int(state["num_features"]))
        method.load_state_dict(state["state_dict"])
    except Exception as exc:
        reason = " ".join(str(exc).split())[:160]
        raise ValueError(f"cannot load the model {path} ({type(exc).__name__}: {reason}); "
                         f"give a file written by graphsampler train --save-model") from None
    return method.to(map_location).eval()


__all__ = ["FORMAT", "load_model", "save_model"]
