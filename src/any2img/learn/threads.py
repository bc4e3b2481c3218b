"""How many CPU threads a training run uses when the user did not say: one thread for small steps.

On the 2-core machine of ``benchmarks/SPEED.md`` ("Threads"), a lite0 step
on a batch of 8 pictures of 64 x 64 ran 1.8x faster on one torch thread
than on two, and one thread was as fast as two up to 32 x 64 x 64 or
8 x 128 x 128 pictures per step; only larger steps (32 x 128 x 128) gained
from the second thread (1.26x). Splitting a small convolution over threads
costs more synchronisation than it saves. So, while a Learner trains on
the CPU without ``num_threads``, steps of at most :data:`SMALL_STEP` input
pixels run on one thread, and torch's own setting is restored afterwards
(the process's setting stays the user's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

__all__ = ["SMALL_STEP", "chosen_threads", "training_threads"]

#: Largest step (batch size x input height x width) that trains on one thread by default.
SMALL_STEP = 8 * 128 * 128


def chosen_threads(device: torch.device, asked: int | None, batch_size: int, input_size: Sequence[int]) -> int | None:
    """The torch threads a training run sets: ``asked``, 1 for a small CPU step, else None (leave torch's).

    Examples
    --------
    >>> cpu = torch.device("cpu")
    >>> chosen_threads(cpu, None, 8, (3, 64, 64)), chosen_threads(cpu, None, 32, (3, 128, 128))
    (1, None)
    >>> chosen_threads(cpu, 2, 8, (3, 64, 64)), chosen_threads(torch.device("cuda"), None, 8, (3, 64, 64))
    (2, None)
    """
    if asked is not None:
        return asked
    height, width = input_size[-2:]
    if device.type != "cpu" or batch_size * height * width > SMALL_STEP:
        return None
    return 1


@contextmanager
def training_threads(threads: int | None) -> Iterator[None]:
    """Run the block on ``threads`` torch threads (None: as they are), then restore the process's setting."""
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
