"""Step table rules (``gaitcheck.metrics.steps``) and the basis of their constants."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcheck.events import Events
from gaitcheck.metrics import steps as steps_mod
from gaitcheck.metrics.steps import build_steps, cadence_spm


def _events(ic_left: list[float], ic_right: list[float], contact_s: float = 0.25) -> Events:
    ic = {"left": np.array(ic_left), "right": np.array(ic_right)}
    to = {s: v + contact_s for s, v in ic.items()}
    frames = {s: np.zeros(v.size, dtype=np.int64) for s, v in ic.items()}
    return Events(ic, to, frames, frames, 0.0, "test")


def _alternating(n: int, step_s: float, jitter_s: float, seed: int) -> tuple[list[float], ...]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(np.full(n, step_s) + rng.normal(0.0, jitter_s, n))
    return list(t[0::2]), list(t[1::2])


@pytest.mark.parametrize("ratio", [1.3, 1.45, 1.6, 1.75, 1.9])
def test_missed_contact_cut_holds_from_1_3_to_1_9(ratio: float,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The basis of MISSED_CONTACT_STEP_RATIO: with step times scattered by 5 % (a rough
    runner), every cut from 1.3 to 1.9 x the median keeps all true steps and drops exactly the
    two that a missed contact merges."""
    monkeypatch.setattr(steps_mod, "MISSED_CONTACT_STEP_RATIO", ratio)
    left, right = _alternating(40, 0.35, 0.0175, seed=1)
    full = build_steps(_events(left, right))
    assert full.valid.sum() == full.n  # nothing lost without a missed contact
    missed = build_steps(_events(left[:10] + left[11:], right))
    # The right foot's step into the lost left contact and the one out of it merge into a
    # right-to-right step, invalid as same-foot; the left foot's steps stay valid.
    assert missed.n == full.n - 1
    assert missed.valid.sum() == full.n - 2
    # 5 % scatter of 38 steps: the mean step time is within 1 % of 0.35 s (3 SE).
    assert cadence_spm(missed)[0] == pytest.approx(60.0 / 0.35, rel=0.01)


@pytest.mark.parametrize("ratio", [1.3, 1.6, 1.9])
def test_a_missed_contact_hidden_by_alternation_is_dropped(
    ratio: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missed contact followed by a contact given the wrong foot leaves alternating feet
    around a step twice the median: only the cut can drop it, at any ratio from 1.3 to 1.9."""
    monkeypatch.setattr(steps_mod, "MISSED_CONTACT_STEP_RATIO", ratio)
    left, right = _alternating(40, 0.35, 0.0175, seed=2)
    missed_left = left[10]
    relabelled = right[10]  # the right contact just after it, labelled left
    st = build_steps(_events([t for t in left if t != missed_left] + [relabelled],
                             [t for t in right if t != relabelled]))
    long_step = st.step_time_s > 1.7 * 0.35
    assert long_step.sum() == 1
    assert not st.valid[long_step].any()
    # Besides it, only the left-to-left step after the relabelled contact is lost.
    assert st.valid.sum() == st.n - 2


def test_toe_off_window_keeps_walking_double_support_and_rejects_the_next_stance() -> None:
    """TO_AFTER_NEXT_IC_STEP_SHARE: a walker's toe-off a tenth of a stride after the other foot
    lands is kept; one a full step later (the next stance's) is not."""
    step = 0.5
    left, right = [0.0, 1.0, 2.0], [0.5, 1.5, 2.5]
    walking = build_steps(_events(left, right, contact_s=step + 0.1))
    assert np.isfinite(walking.to_time_s).all()
    too_late = build_steps(_events(left, right, contact_s=2 * step))
    assert not np.isfinite(too_late.to_time_s).any()
