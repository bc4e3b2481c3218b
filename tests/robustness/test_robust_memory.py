"""Peak memory, measured in a fresh subprocess (``ru_maxrss``): a 1-hour 16 kHz WAV converted and predicted,
a 100,000-point series and an 80,000-event mouse session converted (issue 13, defect 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROBE = Path(__file__).with_name("memory_probe.py")
LIMIT_MB = 1024
# A 1-hour stft at hop 2048 (a quarter of the default work, the same memory pattern: the old whole-clip path
# decoded and held the hour as float32, 230 MB, twice over).
STFT = {"image_size": 32, "hop_length": 2048}


def _probe(*args: str) -> dict:
    done = subprocess.run([sys.executable, str(PROBE), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hour_wav(tmp_path_factory) -> Path:
    import soundfile as sf

    folder = tmp_path_factory.mktemp("hour") / "src" / "speech"
    folder.mkdir(parents=True)
    path = folder / "hour.wav"
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 60) / 16000
    with sf.SoundFile(str(path), "w", 16000, 1, subtype="PCM_16") as fh:
        for minute in range(60):
            tone = 0.2 * np.sin(2 * np.pi * (200 + 10 * minute) * t)
            fh.write((tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32))
    return path


def test_a_one_hour_wav_converts_and_predicts_within_the_bound(hour_wav, tmp_path, tally):
    conv = _probe("convert", str(hour_wav.parents[1]), str(tmp_path / "out"), "stft", json.dumps(STFT))
    assert conv["failures"] == 0 and conv["images"] == 60  # duration=None: 60-s windows past LONG_CLIP_SECONDS
    assert conv["peak_mb"] < 300, conv  # never the whole recording in memory (230 MB as float32)

    from any2img.data import items_from_arrays, split_items
    from any2img.learn import Learner

    imgs = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    split = split_items(items_from_arrays(imgs, ["a", "b"] * 4), valid_pct=0.25, seed=0)
    folder = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                     device="cpu").export(tmp_path / "model")
    meta = json.loads((folder / "model.json").read_text())
    meta["converter"] = {"name": "stft", "params": STFT}
    (folder / "model.json").write_text(json.dumps(meta))
    pred = _probe("predict", str(folder), str(hour_wav))
    # the bound is on what the job holds: its peak less torch's and the other libraries' mapped files, whose
    # resident share varies with the file system and page cache (780-1,030 MB in all for the same job)
    assert pred["windows"] == 60 and pred["private_peak_mb"] < LIMIT_MB, pred
    tally.add("peak memory", tried=2, injected="1-hour 16 kHz WAV (57.6 M samples)",
              note=f"1-hour WAV: convert {conv['peak_mb']:.0f} MB ({conv['seconds']} s), predict "
                   f"{pred['private_peak_mb']:.0f} MB private, {pred['peak_mb']:.0f} MB with torch's mapped "
                   f"files ({pred['seconds']} s); bound {LIMIT_MB} MB")


def test_a_100k_point_series_and_an_80k_event_mouse_session_stay_within_the_bound(tmp_path, tally):
    rng = np.random.default_rng(0)
    series = tmp_path / "series.csv"
    series.write_text(",".join(f"{v:.3f}" for v in np.cumsum(rng.normal(size=100_000))) + "\n")
    ts = _probe("transform", str(series), "gasf,gadf,mtf,recurrence,gaf_mtf,lineplot", json.dumps({}))
    assert ts["images"] == 6 and ts["peak_mb"] < LIMIT_MB, ts

    session = tmp_path / "session_1"
    n = 80_000
    t = np.cumsum(rng.uniform(0.005, 0.05, n))
    x = np.clip(800 + np.cumsum(rng.normal(0, 3, n)), 0, 1920).round()
    y = np.clip(500 + np.cumsum(rng.normal(0, 3, n)), 0, 1080).round()
    rows = (f"{ti:.3f},{ti:.3f},NoButton,Move,{xi:.0f},{yi:.0f}\n" for ti, xi, yi in zip(t, x, y))
    session.write_text("record timestamp,client timestamp,button,state,x,y\n" + "".join(rows))
    mouse = _probe("transform", str(session), "trajectory,mouse_kinematics", json.dumps({}))
    assert mouse["images"] > 0 and mouse["peak_mb"] < LIMIT_MB, mouse
    tally.add("peak memory", tried=2, injected="100,000-point series; 80,000-event mouse session",
              note=f"100k-point series, 6 converters: {ts['peak_mb']:.0f} MB ({ts['seconds']} s); 80k-event "
                   f"session, 2 converters, {mouse['images']} images: {mouse['peak_mb']:.0f} MB "
                   f"({mouse['seconds']} s)")
