"""Training checkpoints without pickle: tensors in safetensors, the rest in JSON.

A checkpoint is a folder holding ``checkpoint.safetensors`` (model weights,
optimiser moments, RNG states, the best weights so far) and
``checkpoint.json`` (epoch, plan, optimiser hyper-parameters, scheduler and
grad-scaler state, Python/NumPy RNG state, history, and the SHA-256 of the
tensors file). Both are written through temporary files and renamed, the
JSON last, so an interrupted save leaves the previous checkpoint usable.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from any2img.errors import InputError
from any2img.hashing import file_sha256

__all__ = [
    "CHECKPOINT_JSON",
    "CHECKPOINT_TENSORS",
    "Checkpoint",
    "capture_rng",
    "optimizer_from_parts",
    "optimizer_to_parts",
    "read_checkpoint",
    "read_checkpoint_meta",
    "restore_rng",
    "write_checkpoint",
]

CHECKPOINT_TENSORS = "checkpoint.safetensors"
CHECKPOINT_JSON = "checkpoint.json"
FORMAT = "any2img-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    """What :func:`read_checkpoint` returns: JSON metadata and named tensors."""

    meta: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors under ``prefix/``, with the prefix removed."""
        n = len(prefix) + 1
        return {k[n:]: v for k, v in self.tensors.items() if k.startswith(prefix + "/")}


def optimizer_to_parts(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Split an optimiser's state dict into JSON-able parts and tensors."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    state: dict[str, dict[str, Any]] = {}
    for pid, values in sd["state"].items():
        state[str(pid)] = {}
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}/{name}"] = value
                state[str(pid)][name] = {"tensor": True}
            else:
                state[str(pid)][name] = value
    return {"param_groups": sd["param_groups"], "state": state}, tensors


def optimizer_from_parts(parts: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Rebuild an optimiser state dict from :func:`optimizer_to_parts` output."""
    state: dict[int, dict[str, Any]] = {}
    for pid, values in parts["state"].items():
        state[int(pid)] = {
            name: tensors[f"{pid}/{name}"] if isinstance(v, dict) and v.get("tensor") else v
            for name, v in values.items()
        }
    groups = []
    for group in parts["param_groups"]:
        g = dict(group)
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def capture_rng(generator: torch.Generator | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The Python, NumPy, torch (CPU, CUDA) and data-loader RNG states."""
    version, py_state, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()  # noqa: NPY002
    meta = {
        "python": [version, list(py_state), gauss],
        "numpy": [np_name, int(np_pos), int(np_has_gauss), float(np_gauss)],
    }
    tensors = {"torch": torch.get_rng_state(), "numpy_keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64))}
    if generator is not None:
        tensors["loader"] = generator.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda/{i}"] = state
    return meta, tensors


def restore_rng(
    meta: dict[str, Any], tensors: dict[str, torch.Tensor], generator: torch.Generator | None = None
) -> None:
    """Restore what :func:`capture_rng` captured."""
    version, py_state, gauss = meta["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name,  # noqa: NPY002
                         tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch"])
    if generator is not None and "loader" in tensors:
        generator.set_state(tensors["loader"])
    cuda = sorted((k for k in tensors if k.startswith("cuda/")), key=lambda k: int(k.split("/")[1]))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda][: torch.cuda.device_count()])


def _prepare(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}


def write_checkpoint(folder: str | os.PathLike[str], meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Path:
    """Write a checkpoint folder atomically; return its path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp_tensors = tempfile.mkstemp(dir=out, prefix=".ckpt.", suffix=".safetensors")
    os.close(fd)
    fd, tmp_json = tempfile.mkstemp(dir=out, prefix=".ckpt.", suffix=".json")
    os.close(fd)
    try:
        save_file(_prepare(tensors), tmp_tensors)
        full = {"format": FORMAT, "format_version": VERSION, **meta, "tensors_sha256": file_sha256(Path(tmp_tensors))}
        Path(tmp_json).write_text(json.dumps(full, indent=1, allow_nan=True) + "\n", encoding="utf-8")
        os.replace(tmp_tensors, out / CHECKPOINT_TENSORS)
        os.replace(tmp_json, out / CHECKPOINT_JSON)
    finally:
        for tmp in (tmp_tensors, tmp_json):
            Path(tmp).unlink(missing_ok=True)
    return out


def read_checkpoint_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked JSON half of a checkpoint (its plan, progress, history), without reading the tensors.

    Raises
    ------
    InputError
        The file is missing, not JSON, or not a checkpoint of this version.
    """
    meta_path = Path(folder) / CHECKPOINT_JSON
    if not meta_path.is_file():
        raise InputError("checkpoint file not found", path=meta_path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", path=meta_path) from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError(f"'format' must be {FORMAT!r}", path=meta_path)
    if meta.get("format_version") != VERSION:
        raise InputError(f"'format_version' must be {VERSION} (got {meta.get('format_version')!r})", path=meta_path)
    return meta


def read_checkpoint(folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint folder written by :func:`write_checkpoint`.

    Raises
    ------
    InputError
        Files missing, not a checkpoint, or the tensors file does not match
        the SHA-256 its JSON records.
    """
    meta = read_checkpoint_meta(folder)
    tensors_path = Path(folder) / CHECKPOINT_TENSORS
    if not tensors_path.is_file():
        raise InputError("checkpoint file not found", path=tensors_path)
    if file_sha256(tensors_path) != meta.get("tensors_sha256"):
        raise InputError("the tensors file does not match the SHA-256 recorded in checkpoint.json", path=tensors_path)
    return Checkpoint(meta=meta, tensors=load_file(str(tensors_path), device=str(device)))
