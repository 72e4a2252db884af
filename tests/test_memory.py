"""Freed heap pages go back to the operating system (gaitcheck.memory, issue 12)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gaitcheck.memory import _malloc_trim

# A fresh interpreter, and glibc's malloc called directly (numpy's own allocation policies vary
# between versions), make the heap's layout predictable. Freeing an 8 MiB block raises glibc's
# adaptive mmap threshold past 1 MiB (as a long pose pass does), so the 1 MiB "frames" come from
# the heap; a 100 KiB block kept after each (the "landmark rows") stops the heap from shrinking
# on its own when the frames are freed.
PROBE = """
import ctypes
from gaitcheck.memory import release_free_memory

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def touched(n):
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)  # resident, as a decoded frame is
    return p

libc.free(touched(8 << 20))
kept, frames = [], []
for _ in range(200):
    frames.append(touched(1 << 20))
    kept.append(touched(100 << 10))
for p in frames:
    libc.free(p)
before = rss_mib()
released = release_free_memory()
print(released, before, rss_mib())
"""


@pytest.mark.skipif(_malloc_trim() is None, reason="malloc_trim is glibc's")
def test_freed_frames_leave_the_process() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    released, before, after = out[0] == "True", float(out[1]), float(out[2])
    assert released
    # 200 MiB of frames were freed: at least half of it must leave.
    assert before - after >= 100, (before, after)
