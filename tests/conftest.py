"""Shared pytest fixtures: keep this file small and generic."""

from __future__ import annotations

import os
from pathlib import Path

# Before any test module imports torch: spinning OpenMP threads crawl on shared cores
# (see any2img/__init__.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pytest

#: ``../shared/datasets`` beside the repository (absent outside the workplace).
SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded random generator, so every test is repeatable."""
    return np.random.default_rng(0)


@pytest.fixture
def shared_datasets() -> Path:
    """The shared real-data folder; the test is skipped when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS
