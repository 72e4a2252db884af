"""Run an iterator ahead in a background thread through a bounded queue.

Decoding a video (FFmpeg, in C, without the GIL) and running the pose model or the video encoder
can then overlap on two cores, while memory stays flat: at most ``depth`` items wait in the
queue. Exceptions raised by the producer reach the consumer at the point they occurred; a
consumer that stops early (``break``, an exception) stops the producer too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_DEPTH = 4  # frames waiting; enough to absorb jitter, small enough to keep memory flat
_POLL_S = 0.1  # how often a blocked producer checks whether the consumer has gone


class _End:
    """Marks the end of the stream (optionally carrying the producer's exception)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetch(items: Iterable[T], depth: int = DEFAULT_DEPTH) -> Generator[T, None, None]:
    """Yield the items of ``items``, produced ahead by a daemon thread.

    Parameters
    ----------
    items : iterable
        Any iterable; it is iterated (and closed, if a generator) in the background thread.
    depth : int
        Most items produced but not yet consumed.

    Yields
    ------
    The items, in order.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    break
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(_End(exc))
            return
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        put(_End())

    worker = threading.Thread(target=produce, name="gaitcheck-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
