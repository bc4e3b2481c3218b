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


@pytest.fixture(scope="module")
def converted_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``src/`` (8 short WAV tones of two classes, 8 kHz) and ``out/`` (their mel conversion)."""
    import soundfile as sf

    import any2img

    root = tmp_path_factory.mktemp("sigaudio")
    rng = np.random.default_rng(0)
    sr = 8000
    t = np.arange(sr // 4) / sr
    for label, freq in (("low", 300.0), ("high", 1800.0)):
        folder = root / "src" / label
        folder.mkdir(parents=True)
        for i in range(4):
            wave = 0.5 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6)) + 0.01 * rng.normal(size=t.size)
            sf.write(folder / f"c{i}.wav", wave.astype(np.float32), sr)
    any2img.convert_dir("mel", root / "src", root / "out", params={"n_mels": 32}, progress=False)
    return root

