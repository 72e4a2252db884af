"""The background-thread prefetcher: order, bounded look-ahead, errors and early stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from gaitcheck.prefetch import prefetch


def test_items_arrive_in_order_and_complete() -> None:
    assert list(prefetch(range(1000), depth=3)) == list(range(1000))
    assert list(prefetch([], depth=1)) == []


def test_lookahead_is_bounded() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    time.sleep(0.3)  # give the producer time to run as far ahead as it may
    # Consumed 1, at most 2 waiting in the queue, at most 1 more being put: never all 100.
    assert len(produced) <= 1 + 2 + 1
    it.close()


def test_producer_error_reaches_consumer_after_good_items() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("broken frame")

    got: list[int] = []
    with pytest.raises(ValueError, match="broken frame"):
        for x in prefetch(source()):
            got.append(x)
    assert got == [1, 2]


def test_early_stop_closes_the_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    for x in it:
        if x == 5:
            break
    it.close()  # what a for-loop's owner does when it drops the generator
    assert closed.is_set()
    assert not any(t.name == "gaitcheck-prefetch" and t.is_alive() for t in threading.enumerate())


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(prefetch([1], depth=0))
