"""Steps from events: one row per initial contact that starts a complete step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..config import EventConfig
from ..events import Events

Array = NDArray[np.float64]

# A step longer than this multiple of the median valid step hides a missed contact. A missed
# contact merges two steps (about 2x the median); healthy running varies step time by a few
# percent (a 1.3x step is already 6 SD away at a 5 % CV). tests/test_steps.py shows the same
# steps flagged for any cut from 1.3 to 1.9.
MISSED_CONTACT_STEP_RATIO = 1.6
# A toe-off belongs to a step if it falls after the step's contact and before the next contact
# plus this share of the step: running toe-offs come before the other foot lands (flight), a
# walker's up to a tenth of a stride after it (double support), so half a step bounds both
# while rejecting the next stance's toe-off (a full step later).
TO_AFTER_NEXT_IC_STEP_SHARE = 0.5


@dataclass(frozen=True)
class StepTable:
    """Steps in time order.

    Attributes
    ----------
    foot : ndarray of str, shape (n_steps,)
        ``"left"`` or ``"right"``: the foot whose initial contact starts the step.
    ic_time_s, to_time_s, next_ic_time_s : ndarray, shape (n_steps,)
        This foot's IC and TO, and the next (contralateral) IC that ends the step.
    step_time_s : ndarray, shape (n_steps,)
    valid : ndarray of bool, shape (n_steps,)
        Step time within the plausible range and followed by the other foot.
    """

    foot: NDArray[np.str_]
    ic_time_s: Array
    to_time_s: Array
    next_ic_time_s: Array
    step_time_s: Array
    valid: NDArray[np.bool_]

    @property
    def n(self) -> int:
        """Number of steps."""
        return int(self.foot.size)


def build_steps(events: Events, config: EventConfig | None = None) -> StepTable:
    """Merge both feet's contacts into a step table.

    A step runs from an IC to the next IC of either foot. It is valid when the next IC is of the
    other foot and the step time lies within ``[min_step_s, max_step_s]``: a missed or spurious
    contact invalidates the steps around it instead of biasing cadence.

    Parameters
    ----------
    events : Events
    config : EventConfig, optional

    Returns
    -------
    StepTable
    """
    cfg = config or EventConfig()
    feet = np.concatenate([np.full(events.ic_time_s[s].size, s) for s in ("left", "right")])
    t_ic = np.concatenate([events.ic_time_s[s] for s in ("left", "right")])
    t_to = np.concatenate([events.to_time_s[s] for s in ("left", "right")])
    order = np.argsort(t_ic, kind="stable")
    feet, t_ic, t_to = feet[order], t_ic[order], t_to[order]
    if t_ic.size < 2:
        empty = np.array([])
        return StepTable(np.array([], dtype=str), empty, empty, empty, empty,
                         np.array([], dtype=bool))
    nxt = t_ic[1:]
    step = nxt - t_ic[:-1]
    alternate = feet[1:] != feet[:-1]
    valid = alternate & (step >= cfg.min_step_s) & (step <= cfg.max_step_s)
    # A step far longer than its neighbours hides a missed contact.
    med = np.median(step[valid]) if valid.any() else np.nan
    if np.isfinite(med):
        valid &= step < MISSED_CONTACT_STEP_RATIO * med
    to = t_to[:-1]
    to = np.where((to > t_ic[:-1]) & (to < nxt + TO_AFTER_NEXT_IC_STEP_SHARE * step), to, np.nan)
    return StepTable(feet[:-1], t_ic[:-1], to, nxt, step, valid)


def cadence_spm(steps: StepTable) -> tuple[float, float, dict[str, float]]:
    """Cadence in steps/min from valid steps.

    The overall value is steps counted over elapsed time (60 * n / sum of step times, the
    definition of the hand marks' cadence). Per foot it is 120 / stride time of that foot (IC
    to its next IC), the stride time being the slope of contact time against stride count over
    the whole span of that foot's contacts (a missed contact counted as a skipped stride), as
    the median of pairwise slopes (Theil-Sen): a constant timing bias of one foot's contacts
    cancels there, where per-foot step times would split it into a false asymmetry, and one
    mistimed contact moves it by a fraction of a frame. Where the numbering is ambiguous (fewer
    than three contacts, a repeated count or more than one missed contact in a row) the mean
    stride time of the valid strides is used.

    Returns
    -------
    value : float
    sd : float
        SD of the per-step cadence.
    per_side : dict
    """
    v = steps.valid
    if not v.any():
        return float("nan"), float("nan"), {"left": float("nan"), "right": float("nan")}
    st = steps.step_time_s[v]
    sd = float(np.std(60.0 / st, ddof=1)) if st.size > 1 else float("nan")
    per = {}
    # Two consecutive valid steps starting at this foot's IC make one stride.
    stride_ok = v[:-1] & v[1:]
    stride_s = steps.step_time_s[:-1] + steps.step_time_s[1:]
    for side in ("left", "right"):
        m = stride_ok & (steps.foot[:-1] == side)
        if not m.any():
            per[side] = float("nan")
            continue
        stride = float(stride_s[m].sum() / m.sum())
        stride = _line_period(steps.ic_time_s[(steps.foot == side) & v], stride)
        per[side] = 120.0 / stride
    # Steps counted over elapsed time, the definition the hand marks' cadence uses.
    value = 60.0 * st.size / st.sum()
    return float(value), sd, per


def _line_period(t: Array, period: float) -> float:
    """Slope of contact time against count: the period of a repeating contact.

    Parameters
    ----------
    t : ndarray, shape (k,)
        Contact times (s), increasing.
    period : float
        Mean period of the valid intervals (s), used to number the contacts and returned when
        the numbering is ambiguous.

    Returns
    -------
    float
        Seconds per count.
    """
    if t.size < 3 or not np.isfinite(period) or period <= 0:
        return period
    k = np.round((t - t[0]) / period)
    if np.unique(k).size != k.size or (np.diff(k) > 2).any():
        return period
    # Median of the pairwise slopes (Theil-Sen): one mistimed contact, even at an end of the
    # span where it would lever a least-squares line, moves it by a fraction of a frame.
    i, j = np.triu_indices(t.size, 1)
    return float(np.median((t[j] - t[i]) / (k[j] - k[i])))
