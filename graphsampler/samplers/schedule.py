r"""Restart-probability schedules for :class:`ProximityBatchSampler`."""
from __future__ import annotations

from dataclasses import dataclass

from graphsampler.samplers._checks import check_restart_prob


@dataclass(frozen=True)
class RestartDecay:
    r"""The published restart schedule: :math:`\alpha_e = \max(\text{floor},
    \text{start} - \text{step} \cdot e)` at epoch :math:`e`.

    BatchSampler's released code starts at 0.2 and lowers the restart probability by
    0.02 per epoch down to 0.05: batches grow more local (harder) early and spread out
    as training goes on.

    Args:
        start (float): :math:`\alpha_0`. (default: :obj:`0.2`)
        step (float): Decrease per epoch, :math:`\geq 0`. (default: :obj:`0.02`)
        floor (float): Lowest value. (default: :obj:`0.05`)

    Example:
        >>> decay = RestartDecay()
        >>> [round(decay(e), 2) for e in (0, 1, 5, 20)]
        [0.2, 0.18, 0.1, 0.05]
    """
    start: float = 0.2
    step: float = 0.02
    floor: float = 0.05

    def __post_init__(self) -> None:
        check_restart_prob(self.start)
        check_restart_prob(self.floor)
        if isinstance(self.step, bool) or not isinstance(self.step, (int, float)) or \
                not 0 <= self.step < 1:
            raise ValueError(f"step must be a number in [0, 1), got {self.step!r}")

    def __call__(self, epoch: int) -> float:
        return max(self.floor, self.start - self.step * epoch)


#: Names of the restart schedules (``graphsampler train --restart-schedule``).
RESTART_SCHEDULES = ("constant", "decay")


def restart_schedule(name: str, restart_prob: float) -> float | RestartDecay:
    r"""The schedule called ``name``, starting at ``restart_prob``: ``"constant"``
    (the number itself) or ``"decay"`` (:class:`RestartDecay` from it)."""
    alpha = check_restart_prob(restart_prob)
    if name == "constant":
        return alpha
    if name == "decay":
        return RestartDecay(start=alpha, floor=min(alpha, RestartDecay.floor))
    raise ValueError(f"restart_schedule must be one of {', '.join(RESTART_SCHEDULES)}, "
                     f"got {name!r}")
