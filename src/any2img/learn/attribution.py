"""Which pixels of the model's input decided: Grad-CAM and occlusion.

Both work on the exact tensor the model sees (the picture resized and
normalised by :func:`any2img.data.transforms.preprocess_batch`) and return
one map per image at that input's size; :func:`upsample` brings a map to the
converter's picture size, where ``Converter.relevance`` takes it back to the
signal.

* :func:`grad_cam` (Selvaraju et al. 2017): the feature maps of the
  backbone's last convolutional stage, weighted by the spatial mean of the
  class score's gradient, summed over channels and rectified. The stage is
  found generically: timm models split ``forward_features`` (the last feature
  map, before global pooling) from ``forward_head``; for token models (ViT)
  the patch tokens are laid back on their grid; any other module falls back
  to the last module whose output is a 4-D map. ``layer="auto"`` takes a
  finer stage instead when the last one is too coarse for the input: at the
  64-128 px that signal pictures are trained at, a stride-32 backbone's last
  map is 2 x 2 to 4 x 4 cells, so :func:`resolve_layer` picks the deepest
  stage (timm's ``feature_info``) with at least :data:`MIN_CELLS` cells along
  the shorter side; any module name can be given too.
* :func:`occlusion` (Zeiler & Fergus 2014): the drop in the class's
  probability when a square patch is set to the mean pixel (0 after
  normalisation), averaged over the patches covering each pixel. It needs no
  access to the network's inside, so it checks Grad-CAM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from any2img.errors import ParameterError

__all__ = ["MIN_CELLS", "feature_maps", "grad_cam", "occlusion", "resolve_layer", "upsample"]

#: Cells along the shorter side that ``layer="auto"`` asks of the Grad-CAM map.
MIN_CELLS = 8


def _targets(logits: torch.Tensor, target: int | Sequence[int] | None) -> torch.Tensor:
    n, n_classes = logits.shape
    if target is None:
        return logits.argmax(dim=1)
    t = torch.as_tensor([target] * n if isinstance(target, int) else list(target), dtype=torch.long)
    if t.shape != (n,) or int(t.min()) < 0 or int(t.max()) >= n_classes:
        raise ParameterError(f"'target' must be a class index in [0, {n_classes}) or one per image (got {target!r}).")
    return t.to(logits.device)


def _as_grid(features: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """Bring a feature tensor to ``(N, C, h, w)`` (NHWC maps and ViT tokens included)."""
    if features.ndim == 4:
        n_features = getattr(model, "num_features", None)
        if n_features and features.shape[-1] == n_features and features.shape[1] != n_features:
            return features.permute(0, 3, 1, 2)  # NHWC (Swin and friends)
        return features
    if features.ndim == 3:  # tokens (N, L, C): drop the class/register tokens, lay the rest on a square grid
        tokens = features[:, int(getattr(model, "num_prefix_tokens", 0)) :]
        side = math.isqrt(tokens.shape[1])
        if side * side == tokens.shape[1]:
            return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], side, side)
    raise ParameterError(f"cannot find a spatial feature map in this model (its features have shape "
                         f"{tuple(features.shape)}); use occlusion() instead.")


def feature_maps(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(features, logits (N, n_classes))`` of the last convolutional stage, in one pass.

    ``features`` is the tensor the head pools (``(N, C, h, w)``, NHWC, or
    tokens; :func:`_as_grid` lays it out as ``(N, C, h, w)``). It stays in the
    autograd graph, so ``torch.autograd.grad(score, features)`` gives its
    gradient.
    """
    if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
        timm_model = cast(Any, model)  # timm's split of the forward pass (not on nn.Module's type)
        features = timm_model.forward_features(x)
        logits = timm_model.forward_head(features)
        return features, logits
    seen: list[torch.Tensor] = []

    def keep(module: nn.Module, inputs: object, output: object) -> None:
        if isinstance(output, torch.Tensor) and output.ndim == 4:
            seen.append(output)

    handles = [m.register_forward_hook(keep) for m in model.modules() if m is not model]
    try:
        logits = model(x)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise ParameterError("the model has no module with a 4-D output to take Grad-CAM on; use occlusion().")
    return seen[-1], logits


def resolve_layer(model: nn.Module, input_size: tuple[int, int], layer: str | None = "last") -> str | None:
    """The module Grad-CAM reads: ``None`` for the last stage (``forward_features``), else a module name.

    Parameters
    ----------
    model : torch.nn.Module
    input_size : (int, int)
        ``(height, width)`` of the model's input.
    layer : {"last", "auto"}, str or None, default="last"
        ``"last"``/``None``: the last convolutional stage. ``"auto"``: the
        deepest stage listed in timm's ``feature_info`` whose map has at
        least :data:`MIN_CELLS` cells along the shorter side (the last stage
        when it has, or when no stage is listed). Anything else: a module
        name (``model.get_submodule`` must find it).

    Examples
    --------
    >>> import timm
    >>> resolve_layer(timm.create_model("resnet10t", pretrained=False), (64, 64), "auto")
    'layer2'
    """
    if layer in (None, "last"):
        return None
    if layer != "auto":
        try:
            model.get_submodule(str(layer))
        except AttributeError as exc:
            raise ParameterError(f"'layer' must be 'last', 'auto' or a module of the model (got {layer!r}).") from exc
        return str(layer)
    stages = [dict(f) for f in getattr(model, "feature_info", []) or []]
    fine = [f for f in stages if "module" in f and min(input_size) / float(f.get("reduction", 1)) >= MIN_CELLS]
    if not fine or fine[-1] is stages[-1]:
        return None
    return str(fine[-1]["module"])


def _layer_forward(model: nn.Module, x: torch.Tensor, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    seen: list[torch.Tensor] = []

    def keep(module: nn.Module, inputs: object, output: object) -> None:
        if isinstance(output, torch.Tensor):
            seen.append(output)

    handle = model.get_submodule(layer).register_forward_hook(keep)
    try:
        logits = model(x)
    finally:
        handle.remove()
    if not seen:
        raise ParameterError(f"module {layer!r} took no part in the forward pass.")
    return seen[-1], logits


def grad_cam(model: nn.Module, x: torch.Tensor, target: int | Sequence[int] | None = None,
             layer: str | None = "last") -> np.ndarray:
    """Grad-CAM of a batch on the last convolutional stage, at the input's size.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier (any timm backbone); it is put in eval mode.
    x : torch.Tensor of shape (N, C, H, W)
        The preprocessed input (as the model sees it).
    target : int, sequence of int or None
        Class explained per image; ``None`` takes the predicted class.
    layer : {"last", "auto"}, str or None, default="last"
        Where to read the feature maps (see :func:`resolve_layer`).

    Returns
    -------
    ndarray of shape (N, H, W), float32 in [0, 1]
        Each map scaled by its maximum (an all-zero map stays zero).
    """
    model.eval()
    name = resolve_layer(model, (int(x.shape[-2]), int(x.shape[-1])), layer)
    with torch.enable_grad():
        maps, logits = feature_maps(model, x) if name is None else _layer_forward(model, x, name)
        t = _targets(logits, target)
        score = logits.gather(1, t[:, None]).sum()
        (grads,) = torch.autograd.grad(score, maps)
    maps, grads = _as_grid(maps, model), _as_grid(grads, model)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * maps).sum(dim=1, keepdim=True)).detach().float()
    cam = F.interpolate(cam, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
    top = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
    return (cam / top).clamp_(0.0, 1.0).cpu().numpy().astype(np.float32)


@torch.no_grad()
def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target: int | Sequence[int] | None = None,
    *,
    patch: int | None = None,
    stride: int | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Occlusion sensitivity: the class's probability lost when a patch is blanked, per pixel.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor of shape (N, C, H, W)
        The preprocessed input; a blanked patch is set to 0 (the mean pixel).
    target : int, sequence of int or None
        Class explained per image; ``None`` takes the predicted class.
    patch, stride : int, optional
        Square patch side and step in input pixels (default an eighth of the
        shorter side, and half the patch).
    batch_size : int, default=64
        Occluded copies per forward pass.

    Returns
    -------
    ndarray of shape (N, H, W), float32
        Mean probability drop of the patches covering each pixel (negative
        where blanking helped the class).
    """
    model.eval()
    n, _, h, w = x.shape
    patch = patch or max(1, round(min(h, w) / 8))
    stride = stride or max(1, patch // 2)
    if patch < 1 or stride < 1:
        raise ParameterError(f"'patch' and 'stride' must be ints >= 1 (got {patch!r}, {stride!r}).")
    base = torch.softmax(model(x).float(), dim=1)
    t = _targets(base, target)
    p0 = base.gather(1, t[:, None])[:, 0]
    tops = list(range(0, max(h - patch, 0) + 1, stride))
    lefts = list(range(0, max(w - patch, 0) + 1, stride))
    if tops[-1] + patch < h:
        tops.append(h - patch)
    if lefts[-1] + patch < w:
        lefts.append(w - patch)
    spots = [(r, c) for r in tops for c in lefts]
    out = torch.zeros((n, h, w))
    count = torch.zeros((h, w))
    for r, c in spots:
        count[r : r + patch, c : c + patch] += 1
    for i in range(n):
        for lo in range(0, len(spots), batch_size):
            chunk = spots[lo : lo + batch_size]
            batch = x[i : i + 1].repeat(len(chunk), 1, 1, 1)
            for k, (r, c) in enumerate(chunk):
                batch[k, :, r : r + patch, c : c + patch] = 0.0
            p = torch.softmax(model(batch).float(), dim=1)[:, int(t[i])]
            drop = (p0[i] - p).cpu()
            for k, (r, c) in enumerate(chunk):
                out[i, r : r + patch, c : c + patch] += drop[k]
    return (out / count.clamp_min(1)).numpy().astype(np.float32)


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``(N, h, w)`` (or ``(h, w)``) maps to ``size = (H, W)`` bilinearly."""
    a = np.asarray(maps, dtype=np.float32)
    single = a.ndim == 2
    t = torch.from_numpy(np.ascontiguousarray(a[None] if single else a))[:, None]
    if tuple(t.shape[-2:]) != tuple(size):
        t = F.interpolate(t, size=tuple(size), mode="bilinear", align_corners=False)
    out = t[:, 0].numpy()
    return out[0] if single else out
