"""Freed heap pages go back to the operating system (gaitcheck.memory, issue 12)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gaitcheck.memory import _malloc_trim

# A fresh interpreter, glibc's malloc called directly (numpy's allocation policies vary between
# versions) and glibc's thresholds set explicitly make the heap's layout predictable: an mmap
# threshold of 16 MiB puts the 1 MiB "frames" in the heap, as glibc's adaptive threshold does once
# a long pose pass has freed larger blocks, and a trim threshold of 1 GiB stops the heap from
# shrinking its top on its own (its default adapts too); a 100 KiB block kept after each frame
# stands for the landmark rows that stay between them.
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

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
libc.mallopt(M_MMAP_THRESHOLD, 16 << 20)
libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
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
