"""Shared pytest fixtures: keep this file small and generic."""

from __future__ import annotations

from pathlib import Path

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
