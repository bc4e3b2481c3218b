"""The exported model: a folder with ``weights.safetensors`` and ``model.json``.

``weights.safetensors`` holds the model's ``state_dict`` (safetensors: no
pickle, nothing runs on load). ``model.json`` says everything needed to use
it again::

    {
      "format": "any2img-model", "format_version": 1,
      "backbone": "tf_efficientnet_lite0", "model_kwargs": {},
      "num_classes": 2, "classes": ["1", "2"],
      "input_size": [3, 64, 64], "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
      "interpolation": "bicubic",
      "preprocessing": {"resize": "direct", "grey": "repeated on every channel", "scale": "pixels / 255"},
      "converter": {"name": "gadf", "params": {...}, "implementation": "torch"} | null,
      "segmenter": null,
      "split": {"strategy": "predefined", "seed": 42, "valid_pct": 0.2, "counts": {...},
                "fingerprints": {"rule": ..., "train": [...], "valid": [...]}},
      "metrics": {"valid": {...}, "test": {...}},
      "history": [...], "training": {...},
      "versions": {"any2img": ..., "torch": ..., "timm": ..., "python": ...},
      "weights_sha256": "<hex>"
    }

``converter.implementation`` says what drew the training pictures: absent
(or ``"numpy"``) the numpy converter, ``"torch"`` its device implementation
(``Learner(convert_on="device")``); prediction uses the same one.

Segmentation settings (window length, hop) are converter parameters here,
so ``segmenter`` stays null unless a converter-independent segmenter is used.

:func:`read_artifact` never unpickles: it checks the format and version, the
SHA-256 of the weights file (a changed file is refused) and that the tensors
fit the backbone, and :func:`build_model_from_artifact` returns the model in
eval mode with its :class:`~any2img.data.transforms.DataConfig` and the
parsed ``model.json``.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from any2img.errors import ArtifactError, ParameterError
from any2img.hashing import file_sha256

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from any2img.data.transforms import DataConfig

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "META_NAME",
    "WEIGHTS_NAME",
    "Artifact",
    "build_model_from_artifact",
    "load_artifact",
    "read_artifact",
    "recorded_augment_options",
    "recorded_tta",
    "write_artifact",
]

FORMAT = "any2img-model"
FORMAT_VERSION = 1
WEIGHTS_NAME = "weights.safetensors"
META_NAME = "model.json"

#: How images become tensors for every any2img model (see any2img.data.transforms).
PREPROCESSING = {
    "resize": "direct to input_size (no crop)",
    "grey": "a one-channel image is repeated on every input channel",
    "scale": "pixels / 255, then (x - mean) / std per channel",
}


def _versions() -> dict[str, str]:
    import timm
    import torch

    from any2img import __version__

    versions = {"any2img": __version__, "torch": torch.__version__, "timm": timm.__version__,
                "python": platform.python_version()}
    try:
        import safetensors

        versions["safetensors"] = safetensors.__version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return versions


def _json_safe(value: Any) -> Any:
    """Replace NaN/inf by None so that model.json is strict JSON."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_artifact(
    path: str | os.PathLike[str],
    *,
    model: torch.nn.Module,
    backbone: str,
    classes: list[str],
    data_config: DataConfig,
    model_kwargs: dict[str, Any] | None = None,
    converter: dict[str, Any] | None = None,
    segmenter: dict[str, Any] | None = None,
    split: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    training: dict[str, Any] | None = None,
) -> Path:
    """Write a model folder: ``weights.safetensors`` then ``model.json``.

    Takes plain data (weights, configuration, metrics) and knows nothing of
    how the model was trained: :meth:`any2img.learn.Learner.export` calls
    it, and so can code exporting a model trained by other means. Files are
    written through temporary files and renamed.

    Returns
    -------
    Path
        The folder.
    """
    from safetensors.torch import save_file

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"'path' must be a folder to write the model into (got the file {str(out)!r}).")
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".weights.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata={"format": FORMAT, "backbone": backbone})
        digest = file_sha256(Path(tmp))
        os.replace(tmp, out / WEIGHTS_NAME)
    finally:
        Path(tmp).unlink(missing_ok=True)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backbone": backbone,
        "model_kwargs": model_kwargs or {},
        "num_classes": len(classes),
        "classes": list(classes),
        **data_config.to_dict(),
        "preprocessing": PREPROCESSING,
        "converter": converter,
        "segmenter": segmenter,
        "split": split,
        "metrics": metrics or {},
        "history": history or [],
        "training": training or {},
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "weights_sha256": digest,
    }
    text = json.dumps(_json_safe(meta), indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".model.", suffix=".tmp")
    os.close(fd)
    try:
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, out / META_NAME)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


# -- reading -----------------------------------------------------------------------
def _fail(path: Path, message: str) -> ArtifactError:
    return ArtifactError(f"{path}: {message}")


def _read_meta(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: not a model folder (expected {META_NAME} and {WEIGHTS_NAME} inside).")
    meta_path = folder / META_NAME
    if not meta_path.is_file():
        raise _fail(meta_path, "missing; a model folder holds model.json and weights.safetensors.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(meta_path, f"not valid JSON ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise _fail(meta_path, f"'format' must be {FORMAT!r} (got {got!r}).")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(meta_path, f"'format_version' must be an int >= 1 (got {version!r}).")
    if version > FORMAT_VERSION:
        raise _fail(meta_path, f"'format_version' is {version} but this any2img reads up to {FORMAT_VERSION}; "
                               "upgrade any2img.")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise _fail(meta_path, f"'classes' must be a non-empty list of strings (got {classes!r}).")
    if meta.get("num_classes") != len(classes):
        raise _fail(meta_path, f"'num_classes' must equal the number of classes ({len(classes)}) "
                               f"(got {meta.get('num_classes')!r}).")
    if not isinstance(meta.get("backbone"), str) or not meta["backbone"]:
        raise _fail(meta_path, f"'backbone' must be a timm model name (got {meta.get('backbone')!r}).")
    if not isinstance(meta.get("weights_sha256"), str):
        raise _fail(meta_path, "'weights_sha256' must be the hex SHA-256 of weights.safetensors.")
    _check_schema(meta, meta_path)
    from any2img.data.transforms import DataConfig

    try:
        DataConfig.from_dict(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(meta_path, f"'input_size', 'mean' and 'std' must describe the model input ({exc}).") from exc
    return meta


#: The keys of model.json and the JSON types each may hold; anything else is refused.
_SCHEMA: dict[str, tuple[type, ...]] = {
    "format": (str,), "format_version": (int,), "backbone": (str,), "model_kwargs": (dict,),
    "num_classes": (int,), "classes": (list,), "input_size": (list,), "mean": (list,), "std": (list,),
    "interpolation": (str,), "preprocessing": (dict,), "converter": (dict, type(None)),
    "segmenter": (dict, type(None)), "split": (dict, type(None)), "metrics": (dict,), "history": (list,),
    "training": (dict,), "versions": (dict,), "created": (str,), "weights_sha256": (str,),
}
#: ``model_kwargs`` that may reach ``timm.create_model``: only the input size of fixed-size models
#: (a key such as ``checkpoint_path`` would make timm load a file that the JSON names).
_MODEL_KWARGS = {"img_size"}
_MAX_SIDE = 4096


def _check_schema(meta: dict[str, Any], path: Path) -> None:
    """Known keys and types only, unique classes, sizes and normalisation finite and bounded."""
    import math
    import re

    unknown = sorted(set(meta) - set(_SCHEMA))
    if unknown:
        raise _fail(path, f"unknown keys {unknown}; model.json holds only {sorted(_SCHEMA)}.")
    for key, types in _SCHEMA.items():
        if key in meta and (not isinstance(meta[key], types) or isinstance(meta[key], bool)):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise _fail(path, f"'{key}' must be {names} (got {type(meta[key]).__name__}).")
    if len(set(meta["classes"])) != len(meta["classes"]):
        raise _fail(path, "'classes' must be unique (a repeated name would merge two outputs).")
    kwargs = meta.get("model_kwargs") or {}
    if set(kwargs) - _MODEL_KWARGS:
        raise _fail(path, f"'model_kwargs' may hold only {sorted(_MODEL_KWARGS)} (got {sorted(kwargs)}).")
    if "img_size" in kwargs and not _sizes_ok(kwargs["img_size"], 2):
        raise _fail(path, f"'model_kwargs.img_size' must be 2 ints in [1, {_MAX_SIDE}] (got {kwargs['img_size']!r}).")
    size: list[int] = meta.get("input_size") or []
    if not _sizes_ok(size, 3) or size[0] not in (1, 3, 4):
        raise _fail(path, f"'input_size' must be [channels (1, 3 or 4), height, width] with sides in "
                          f"[1, {_MAX_SIDE}] (got {size!r}).")
    for key, low in (("mean", -math.inf), ("std", 0.0)):
        values = meta.get(key)
        if (not isinstance(values, list) or len(values) != size[0]
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           and low < v < 1e3 for v in values)):
            raise _fail(path, f"'{key}' must be {size[0]} finite numbers{' > 0' if key == 'std' else ''} "
                              f"(got {values!r}).")
    conv = meta.get("converter")
    if conv is not None and (not isinstance(conv.get("name"), str) or not isinstance(conv.get("params", {}), dict)):
        raise _fail(path, f"'converter' must be null or {{'name': str, 'params': dict}} (got {conv!r}).")
    if conv is not None and conv.get("implementation", "numpy") not in ("numpy", "torch"):
        raise _fail(path, f"'converter.implementation' must be 'numpy' or 'torch' (got {conv['implementation']!r}).")
    if not re.fullmatch(r"[0-9a-f]{64}", meta["weights_sha256"]):
        raise _fail(path, "'weights_sha256' must be 64 hex digits.")
    options = (meta.get("training") or {}).get("augment_options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise _fail(path, f"'training.augment_options' must be a dict of option names to values (got {options!r}).")


def _sizes_ok(value: Any, n: int) -> bool:
    return (isinstance(value, list) and len(value) == n
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= _MAX_SIDE for v in value))


def _read(folder: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor], torch.nn.Module]:
    meta = _read_meta(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise _fail(weights, "missing; a model folder holds model.json and weights.safetensors.")
    digest = file_sha256(weights)
    if digest != meta["weights_sha256"]:
        raise _fail(weights, f"SHA-256 {digest[:16]}... does not match 'weights_sha256' "
                             f"{meta['weights_sha256'][:16]}... in model.json: the file was changed after export; "
                             "refusing to load it.")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise _fail(weights, f"not a readable safetensors file ({exc}).") from exc
    from any2img.learn.backbones import create_model

    try:
        model = create_model(meta["backbone"], meta["num_classes"], meta.get("model_kwargs") or {})
    except ParameterError as exc:
        raise _fail(folder / META_NAME, f"'backbone' {meta['backbone']!r} cannot be built here: {exc}") from exc
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        raise _fail(weights, f"the tensors do not fit backbone {meta['backbone']!r} with "
                             f"{meta['num_classes']} classes: {'; '.join(parts)}.")
    stem = next((t for t in expected.values() if t.is_floating_point() and t.ndim == 4), None)
    if stem is not None and int(stem.shape[1]) != int(meta["input_size"][0]):
        raise _fail(folder / META_NAME, f"'input_size' says {meta['input_size'][0]} channels but backbone "
                                        f"{meta['backbone']!r} takes {int(stem.shape[1])}.")
    for key, ref in expected.items():
        if tuple(state[key].shape) != tuple(ref.shape):
            raise _fail(weights, f"tensor {key!r} has shape {tuple(state[key].shape)} but backbone "
                                 f"{meta['backbone']!r} needs {tuple(ref.shape)}.")
        if state[key].is_floating_point() and not bool(state[key].isfinite().all()):
            raise _fail(weights, f"tensor {key!r} holds NaN or infinite values; refusing a model that would "
                                 "answer NaN.")
    return meta, state, model


def read_artifact(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read and check a model folder, without unpickling anything.

    Checks, in order: ``model.json`` exists, is JSON, has ``format`` =
    ``"any2img-model"`` and a ``format_version`` this version reads, and
    well-formed classes, backbone and input description;
    ``weights.safetensors`` exists and its SHA-256 equals
    ``weights_sha256``; its tensors are exactly the backbone's state dict
    (names and shapes).

    Returns
    -------
    meta : dict
        The parsed ``model.json``.
    state_dict : dict of str to Tensor

    Raises
    ------
    ArtifactError
        Naming the file and the rule broken.
    """
    meta, state, _ = _read(Path(path))
    return meta, state


@dataclass
class Artifact:
    """A loaded model folder.

    Attributes
    ----------
    model : torch.nn.Module
        In eval mode, on the CPU.
    data_config : DataConfig
    meta : dict
        The parsed ``model.json``.
    """

    model: torch.nn.Module
    data_config: DataConfig
    meta: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        """Class names; output ``i`` of the model is ``classes[i]``."""
        return list(self.meta["classes"])

    @property
    def converter(self) -> dict[str, Any] | None:
        """``{"name", "params"}`` of the converter that made the training images, if known."""
        return self.meta.get("converter")

    @property
    def tta(self) -> int:
        """Test-time augmentation passes the model answers with (see :func:`recorded_tta`)."""
        return recorded_tta(self.meta)

    @property
    def augment_options(self) -> dict[str, Any]:
        """Options of the test-time passes' signal augmentation (see :func:`recorded_augment_options`)."""
        return recorded_augment_options(self.meta)


def recorded_tta(meta: dict[str, Any]) -> int:
    """The test-time augmentation passes a ``model.json`` records (``training.tta``; 0 when absent, as before)."""
    return int((meta.get("training") or {}).get("tta") or 0)


def recorded_augment_options(meta: dict[str, Any]) -> dict[str, Any]:
    """The signal augmentation's options a ``model.json`` records (``training.augment_options``; ``{}`` if none)."""
    return dict((meta.get("training") or {}).get("augment_options") or {})


def load_artifact(path: str | os.PathLike[str]) -> Artifact:
    """Read a model folder (see :func:`read_artifact`) and build the model."""
    from any2img.data.transforms import DataConfig

    meta, state, model = _read(Path(path))
    model.load_state_dict(state)
    model.eval()
    return Artifact(model=model, data_config=DataConfig.from_dict(meta), meta=meta)


def build_model_from_artifact(
    path: str | os.PathLike[str],
) -> tuple[torch.nn.Module, DataConfig, dict[str, Any]]:
    """Return the model of a model folder (eval mode, CPU), its input config and ``model.json``.

    Examples
    --------
    >>> model, cfg, meta = build_model_from_artifact("model/")    # doctest: +SKIP
    >>> from any2img.data.transforms import preprocess_batch
    >>> probs = model(preprocess_batch(images, cfg)).softmax(1)   # doctest: +SKIP
    >>> meta["classes"][int(probs.argmax(1)[0])]                  # doctest: +SKIP
    """
    art = load_artifact(path)
    return art.model, art.data_config, art.meta
