r"""The embedding bank: one embedding row per training instance, updated in place."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphsampler.samplers._checks import check_indices


class EmbeddingBank:
    r"""Holds the most recent embedding of every instance of a dataset.

    Rows are written by :meth:`update` with the (detached) embeddings that the training
    forward pass produced, keyed by dataset index, so the bank costs no extra encoder
    pass. Storage is allocated on the first update, when the dimension is known, on the
    bank's device (the device of that first update unless ``device`` is given).

    Args:
        num_items (int): Number of instances :math:`N` in the dataset.
        device (torch.device or str, optional): Where the rows live. Default: the device
            of the first embeddings passed to :meth:`update`.
        dtype (torch.dtype): Storage dtype. (default: :obj:`torch.float32`)

    Example:
        >>> bank = EmbeddingBank(4)
        >>> bank.update(torch.tensor([0, 2]), torch.randn(2, 8))
        >>> bank.num_filled, bank.is_full
        (2, False)
        >>> bank.update(torch.tensor([1, 3]), torch.randn(2, 8))
        >>> bank.embeddings.shape
        torch.Size([4, 8])
    """

    def __init__(
        self,
        num_items: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not isinstance(num_items, int) or num_items < 1:
            raise ValueError(f"num_items must be a positive int, got {num_items!r}")
        self.num_items = num_items
        self.dtype = dtype
        self._device = torch.device(device) if device is not None else None
        self._emb: Tensor | None = None
        self._filled: Tensor | None = None

    @property
    def device(self) -> torch.device | None:
        r"""The device of the rows (``None`` until the first update, if not given)."""
        return self._device

    @property
    def dim(self) -> int | None:
        r"""The embedding width :math:`d` (``None`` before the first update)."""
        return None if self._emb is None else self._emb.size(1)

    @property
    def num_filled(self) -> int:
        r"""How many instances have an embedding."""
        return 0 if self._filled is None else int(self._filled.sum())

    @property
    def is_full(self) -> bool:
        r"""Whether every instance has an embedding."""
        return self.num_filled == self.num_items

    @property
    def embeddings(self) -> Tensor:
        r"""The bank, shape :obj:`[N, d]` (rows never written are zero)."""
        if self._emb is None:
            raise ValueError("the bank is empty: call update(indices, embeddings) first")
        return self._emb

    @property
    def filled(self) -> Tensor:
        r"""Boolean mask :obj:`[N]` of the rows that hold an embedding."""
        if self._filled is None:
            raise ValueError("the bank is empty: call update(indices, embeddings) first")
        return self._filled

    @torch.no_grad()
    def update(self, indices: Tensor, embeddings: Tensor) -> None:
        r"""Writes ``embeddings[i]`` into row ``indices[i]``.

        Args:
            indices (torch.Tensor): Dataset indices, shape :obj:`[b]`, integer dtype,
                each in :obj:`[0, N)`.
            embeddings (torch.Tensor): Shape :obj:`[b, d]`, finite. Detached and moved to
                the bank's device.
        """
        if not isinstance(embeddings, Tensor) or embeddings.dim() != 2:
            shape = tuple(embeddings.shape) if isinstance(embeddings, Tensor) else type(embeddings)
            raise ValueError(f"embeddings must be a 2-D tensor [b, d], got {shape}")
        indices = check_indices(indices, self.num_items, "indices")
        if indices.numel() != embeddings.size(0):
            raise ValueError(
                f"indices and embeddings disagree: {indices.numel()} indices but "
                f"{embeddings.size(0)} embedding rows; pass one index per row"
            )
        if not torch.isfinite(embeddings).all():
            raise ValueError(
                "embeddings contain NaN or Inf; the sampler cannot rank neighbours from "
                "them (check the loss for divergence, e.g. lower the learning rate)"
            )
        if self._emb is None:
            if self._device is None:
                self._device = embeddings.device
            self._emb = torch.zeros(self.num_items, embeddings.size(1), dtype=self.dtype,
                                    device=self._device)
            self._filled = torch.zeros(self.num_items, dtype=torch.bool, device=self._device)
        elif embeddings.size(1) != self._emb.size(1):
            raise ValueError(
                f"embedding width changed from {self._emb.size(1)} to {embeddings.size(1)}; "
                "the bank needs one width for all instances"
            )
        assert self._filled is not None
        idx = indices.to(self._device)
        self._emb[idx] = embeddings.detach().to(self._device, self.dtype)
        self._filled[idx] = True

    def state_dict(self) -> dict[str, Any]:
        r"""The rows and their fill mask (on the CPU), for checkpoints."""
        return {
            "num_items": self.num_items,
            "embeddings": None if self._emb is None else self._emb.cpu(),
            "filled": None if self._filled is None else self._filled.cpu(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        r"""Restores :meth:`state_dict` output onto this bank's device."""
        if state["num_items"] != self.num_items:
            raise ValueError(
                f"state is for {state['num_items']} instances, this bank has {self.num_items}"
            )
        if state["embeddings"] is None:
            self._emb = self._filled = None
            return
        if self._device is None:
            self._device = torch.device("cpu")
        self._emb = state["embeddings"].to(self._device, self.dtype)
        self._filled = state["filled"].to(self._device)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_items={self.num_items}, dim={self.dim}, "
                f"filled={self.num_filled}, device={self._device})")
