"""A real SIGKILL of ``any2img train`` mid-run, then ``--resume``, compared with an uninterrupted run.

Checkpoints are written atomically after each epoch (JSON last), so a kill at
any point leaves the previous epoch's checkpoint usable; the resumed run must
end with the same weights and history as a run that was never interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

EPOCHS = 3


def _images(root: Path) -> None:
    rng = np.random.default_rng(0)
    for label, base in (("dark", 60), ("light", 190)):
        (root / label).mkdir(parents=True)
        for i in range(10):
            pixels = np.clip(base + rng.normal(0, 25, (24, 24, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")


def _args(images: Path, out: Path, ckpt: Path, *extra: str) -> list[str]:
    return ["train", str(images), "--out", str(out), "--epochs", str(EPOCHS), "--backbone", "resnet10t",
            "--no-pretrained", "--image-size", "32", "--batch-size", "4", "--checkpoint-dir", str(ckpt),
            "--seed", "0", "--device", "cpu", "-q", *extra]


def _in_process(args: list[str]) -> int:
    """Run the CLI here, single-threaded like the killed subprocess (OMP_NUM_THREADS=1), so sums match."""
    from any2img.cli import main

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return main(args)
    finally:
        torch.set_num_threads(threads)


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "weights.safetensors"))


def test_sigkill_during_training_then_resume_equals_an_uninterrupted_run(tmp_path, tally):
    images = tmp_path / "images"
    _images(images)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cut = subprocess.Popen([sys.executable, "-m", "any2img", *_args(images, tmp_path / "cut", tmp_path / "ckpt")],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = tmp_path / "ckpt" / "checkpoint.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not meta.exists() and cut.poll() is None:
        time.sleep(0.01)
    time.sleep(0.2)  # into the next epoch
    cut.send_signal(signal.SIGKILL)
    cut.wait(timeout=60)
    assert cut.returncode == -signal.SIGKILL and meta.exists() and not (tmp_path / "cut" / "model.json").exists()
    done_at_kill = json.loads(meta.read_text())["history"]

    assert _in_process(_args(images, tmp_path / "cut", tmp_path / "ckpt", "--resume")) == 0
    assert _in_process(_args(images, tmp_path / "full", tmp_path / "full_ckpt")) == 0
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].is_floating_point())
    assert worst <= 1e-6
    history = [json.loads((tmp_path / f / "model.json").read_text())["history"] for f in ("full", "cut")]
    assert [h["epoch"] for h in history[0]] == [h["epoch"] for h in history[1]] == list(range(1, EPOCHS + 1))
    tally.add("SIGKILL during training", tried=1, injected="SIGKILL of `any2img train` after its first checkpoint",
              note=f"killed after {len(done_at_kill)} of {EPOCHS} epochs; --resume ended with weights within "
                   f"{worst:.1e} of the uninterrupted run and the same {EPOCHS}-epoch history")
