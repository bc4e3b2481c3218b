"""Child processes that end with their parent (conversion workers, torchrun ranks)."""

from __future__ import annotations

import signal
import sys

__all__ = ["die_with_parent"]


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the process that started it dies, SIGKILL included.

    ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, the kernel's own mechanism (no
    library offers it portably); a no-op elsewhere. The "parent" is the
    thread that started this process, so call it only in processes started
    from a long-lived thread.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass
