"""Keep freed memory in the process, so a fresh process runs the model as fast as a warm one.

A month of the model allocates and frees arrays of a few megabytes many times. glibc's
allocator serves blocks that large with ``mmap`` and hands them back to the kernel when they
are freed, until its dynamic threshold has seen enough of them; meanwhile every new array is
fresh pages the kernel must fault in and zero. Measured on the 2-core machine, the first
baseline run in a new process took 4.7-5.3 s against 3.8-4.0 s for the next one in the same
process; with the threshold raised from the start the first run took 3.5-4.6 s. A command
such as ``migflow run`` is that first run, so it raises the threshold before it starts.

The cost is that the process keeps its peak memory until it ends, which is what a
short-lived command does anyway. Elsewhere than glibc (macOS, Windows, musl) nothing is
changed.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Blocks below this come from the heap and are reused; the largest array of a scale-1 run
# (the population's columns) is well below it.
_MMAP_THRESHOLD_BYTES = 512 * 1024 * 1024
_TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed blocks instead of returning them to the kernel; True if it
    agreed. Safe to call more than once, and a no-op where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The running interpreter's own symbols include the C library it was linked with.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    )
