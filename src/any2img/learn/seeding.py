"""Seeds: the process's (:func:`seed_everything`, asked for), a worker's, and a learner's own random states.

A :class:`~any2img.learn.learner.Learner` does not reseed the process's
global generators. It keeps its own Python, NumPy and torch states in an
:class:`OwnRandomState`, seeded from its ``seed``, and installs them only
while it works (building its model, training, ``lr_find``, predicting,
evaluating, checkpointing), putting the process's states back afterwards.
Its runs are as reproducible as if it had seeded the process, and the
process's random streams are the user's.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from any2img.learn.checkpoint import capture_rng, restore_rng

__all__ = ["OwnRandomState", "seed_everything", "seed_worker"]

def seed_everything(seed: int) -> None:
    """Seed the process's Python ``random``, NumPy and torch (CPU and every device) generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the global state user code relies on
    torch.manual_seed(seed)


def seed_worker(worker_id: int) -> None:  # pragma: no cover - runs in DataLoader workers
    """Seed a DataLoader worker's Python and NumPy from the seed torch gave it."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)


class OwnRandomState:
    """Python, NumPy and torch random states of one's own, installed as the global ones inside ``with``.

    Seeded as :func:`seed_everything` would seed the process (the CPU
    generator, and ``device``'s when it is a CUDA or MPS device), without
    touching the process's states. Entering installs these states and
    leaving keeps what they became and puts the process's back; nested
    entries are part of the outer one. On MPS the device generator is seeded
    but not swapped.

    Parameters
    ----------
    seed : int
    device : torch.device
    """

    def __init__(self, seed: int, device: torch.device) -> None:
        if device.type == "cuda":
            torch.cuda.init()  # so that its generators are captured with the others
        outer = capture_rng()
        random.seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002 - installed only inside `with`
        torch.default_generator.manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.manual_seed_all(seed)
        elif device.type == "mps":  # pragma: no cover - Apple only
            torch.mps.manual_seed(seed)
        self._own = capture_rng()
        restore_rng(*outer)
        self._outer: tuple[dict[str, Any], dict[str, torch.Tensor]] | None = None
        self._depth = 0

    def __enter__(self) -> OwnRandomState:
        if self._depth == 0:
            self._outer = capture_rng()
            restore_rng(*self._own)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            assert self._outer is not None
            self._own = capture_rng()
            restore_rng(*self._outer)
            self._outer = None
