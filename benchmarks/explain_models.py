"""The three models the explanation benchmark explains: GunPoint, FSDD and Balabit.

Each is trained with the library's own API on the benchmark's fixed split of
its data set (:mod:`benchmarks.datasets`: GunPoint's given train/test,
FSDD's official split, each Balabit user's last session held out), with a
*reduced* budget (explicit epochs, a small input size) so that the three fit
in a few minutes on 2 CPU cores. The explanation benchmark needs models that
work, not the best models; their test accuracy is recorded beside them.

Usage::

    python -m benchmarks.explain_models          # trains what is missing
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.datasets import get_dataset
from benchmarks.runner import CACHE_DIR, _params_id, _variant_dir, image_split

__all__ = ["ALL_MODELS", "EXTRA_MODELS", "MODELS", "ExplainModel", "converted_folder", "model_dir", "train_model"]

MODEL_ROOT = CACHE_DIR / "explain-models"


@dataclass(frozen=True)
class ExplainModel:
    """One data set's model for the explanation benchmark.

    Attributes
    ----------
    dataset, split, variant : str
        As in :mod:`benchmarks.datasets`.
    converter : str
    params : dict
        Converter parameters (data facts included).
    image_size : int
        The learner's input size (reduced budget).
    epochs : int
        Explicit epochs (reduced budget).
    """

    dataset: str
    split: str
    converter: str
    params: dict[str, Any] = field(default_factory=dict)
    variant: str = ""
    image_size: int = 64
    epochs: int = 4


MODELS: dict[str, ExplainModel] = {
    "GunPoint": ExplainModel("GunPoint", "given", "gadf", {"image_size": 64}, image_size=64, epochs=40),
    "FSDD": ExplainModel("FSDD", "official", "mel", {"sample_rate": 8000}, image_size=64, epochs=2),
    "Balabit": ExplainModel("Balabit", "last-session", "trajectory", {}, variant="events6000",
                            image_size=96, epochs=6),
}
#: Models trained only when named (``--only``): the same GunPoint budget with another converter, to
#: compare where the relevance sits (benchmarks/EXPLAIN.md, "GunPoint: where the relevance sits, checked").
EXTRA_MODELS: dict[str, ExplainModel] = {
    "GunPoint-lineplot": ExplainModel("GunPoint", "given", "lineplot", {"image_size": 64}, image_size=64, epochs=40),
}
ALL_MODELS: dict[str, ExplainModel] = {**MODELS, **EXTRA_MODELS}


def converted_folder(m: ExplainModel, *, workers: int = 2) -> Path:
    """Convert the data set with the model's converter (cached as the benchmark runner caches)."""
    from any2img import convert_dir, get_converter

    spec = get_dataset(m.dataset)
    converter = get_converter(m.converter, **m.params)
    src = spec.prepare(CACHE_DIR, m.variant)
    dst = CACHE_DIR / "images" / _variant_dir(spec, m.variant) / _params_id(converter)
    convert_dir(converter, src, dst, label_from=spec.label_from, group_from=spec.group_from, workers=workers,
                progress=False)
    return dst


def model_dir(name: str) -> Path:
    """Where the exported model of data set ``name`` lives."""
    return MODEL_ROOT / name


def train_model(name: str, *, seed: int = 0, threads: int | None = 2) -> Path:
    """Train and export model ``name`` (a key of :data:`ALL_MODELS`; skipped when it exists); return its folder."""
    from any2img.learn import Learner

    out = model_dir(name)
    if (out / "model.json").is_file():
        return out
    m = ALL_MODELS[name]
    folder = converted_folder(m)
    split = image_split(folder, get_dataset(m.dataset), m.split)
    learn = Learner(split, image_size=m.image_size, seed=seed, verbose=False, num_threads=threads)
    start = time.perf_counter()
    learn.fine_tune(epochs=m.epochs)
    seconds = time.perf_counter() - start
    test = learn.evaluate("test")
    learn.export(out)
    info = {"dataset": m.dataset, "split": m.split, "converter": m.converter, "params": m.params,
            "variant": m.variant, "image_size": m.image_size, "epochs": m.epochs, "seed": seed,
            "train_seconds": round(seconds, 1), "n_train": len(split.train), "n_valid": len(split.valid),
            "n_test": len(split.test), "test": test, "images": str(folder)}
    (out / "explain-training.json").write_text(json.dumps(info, indent=1, default=str) + "\n")
    print(f"{name}: test accuracy {test.get('accuracy'):.3f} after {m.epochs} epochs ({seconds:.0f} s)", flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.explain_models", description=__doc__)
    p.add_argument("--only", nargs="*", default=list(MODELS), choices=list(ALL_MODELS),
                   help="models (default: the three data sets'; GunPoint-lineplot only when named)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    for name in args.only:
        train_model(name, seed=args.seed, threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
