"""Hypothesis settings shared by the property-test files (random examples, reproducible).

``GAITCHECK_PROPERTY_EXAMPLES`` sets the number of random examples per property (default 100, the
CI figure); a longer hunt is one variable away (``GAITCHECK_PROPERTY_EXAMPLES=1000``).
``GAITCHECK_PROPERTY_SEED`` fixes the seed of a run; without it a fresh random seed is drawn once
per session, printed in pytest's header and, with the falsifying example and a
``@reproduce_failure`` blob, in every property failure (see ``conftest.py``).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, seed, settings

F = TypeVar("F", bound=Callable[..., Any])

#: Examples per property in a default (CI) run.
DEFAULT_EXAMPLES = 100


def property_examples() -> int:
    """Examples per property: ``GAITCHECK_PROPERTY_EXAMPLES`` or ``DEFAULT_EXAMPLES``."""
    raw = os.environ.get("GAITCHECK_PROPERTY_EXAMPLES", "").strip()
    if not raw:
        return DEFAULT_EXAMPLES
    n = int(raw)
    if n < 1:
        raise ValueError(f"GAITCHECK_PROPERTY_EXAMPLES must be a positive integer, not {raw!r}")
    return n


def _session_seed() -> int:
    raw = os.environ.get("GAITCHECK_PROPERTY_SEED", "").strip()
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


#: Seed of this session's property examples (printed in the pytest header and on failure).
PROPERTY_SEED = _session_seed()


def prop(share: float = 1.0) -> Callable[[F], F]:
    """Decorator: random-example settings for a property, stacked above ``@given``.

    Parameters
    ----------
    share : float
        Share of ``property_examples()`` to run (a property that runs several full analyses per
        example may take fewer); never fewer than 100 examples in a default run unless the
        share says so, and always at least 1.

    Notes
    -----
    No shrinking: each example is a full analysis, and the failure message of every property
    names a minimal ``RunnerParams`` reproducer itself. ``print_blob`` prints a
    ``@reproduce_failure`` line, and the session seed reruns the whole sequence.
    """
    n = max(1, int(round(share * property_examples())))
    conf = settings(
        max_examples=n, deadline=None, derandomize=False, database=None, print_blob=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )

    def wrap(fn: F) -> F:
        return seed(PROPERTY_SEED)(conf(fn))  # type: ignore[no-any-return]

    return wrap
