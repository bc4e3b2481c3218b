"""From uint8 images to normalised tensors, and augmentations for non-photographs.

The preprocessing comes from the model: input size, mean, std and the resize
filter are a :class:`DataConfig` resolved from the backbone's pretrained
configuration (see :mod:`any2img.learn.backbones`), never constants here.

Images are resized straight to the input size (no crop: the edges of a
spectrogram or a Gramian field carry information). A one-channel image is
repeated on the model's three input channels.

Augmentations are off by default. Flips and crops that suit photographs
break pictures whose axes mean time and frequency, so none is offered;
instead there are SpecAugment-style time and frequency masks and a small
circular time shift, for pictures whose horizontal axis is time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from any2img.data.items import load_image
from any2img.errors import ParameterError
from any2img.validation import check_float, check_int

__all__ = [
    "AUGMENTS",
    "Compose",
    "DataConfig",
    "SpecAugment",
    "TimeShift",
    "build_augment",
    "normalise",
    "preprocess",
    "preprocess_batch",
    "resize_image",
]

_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


@dataclass(frozen=True)
class DataConfig:
    """How a model wants its input.

    Attributes
    ----------
    input_size : tuple of int
        ``(channels, height, width)``.
    mean, std : tuple of float
        Per-channel normalisation of pixels scaled to [0, 1].
    interpolation : str
        Resize filter: ``"bilinear"``, ``"bicubic"``, ``"nearest"``, ...
    """

    input_size: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bilinear"

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return self.input_size[1], self.input_size[2]

    @property
    def channels(self) -> int:
        """Input channels of the model."""
        return self.input_size[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the keys of ``model.json``)."""
        return {
            "input_size": list(self.input_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": self.interpolation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataConfig:
        """Rebuild from :meth:`to_dict` output (or a timm data config)."""
        size = tuple(int(v) for v in data["input_size"])
        if len(size) != 3 or min(size) < 1:
            raise ParameterError(f"'input_size' must be [channels, height, width] of ints >= 1 (got {size!r}).")
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        if len(mean) != size[0] or len(std) != size[0] or min(std) <= 0:
            raise ParameterError(
                f"'mean' and 'std' must hold one value per channel ({size[0]}), std > 0 (got {mean!r}, {std!r})."
            )
        interpolation = str(data.get("interpolation") or "bilinear")
        if interpolation not in _FILTERS:
            interpolation = "bilinear"
        return cls(input_size=size, mean=mean, std=std, interpolation=interpolation)


def resize_image(image: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear") -> np.ndarray:
    """Resize an ``(H, W, C)`` uint8 image to ``size = (height, width)``."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    resample = _FILTERS.get(interpolation, Image.Resampling.BILINEAR)
    if image.shape[2] == 1:
        out = np.asarray(Image.fromarray(image[:, :, 0], mode="L").resize((w, h), resample))
        return out[:, :, None]
    return np.asarray(Image.fromarray(image, mode="RGB").resize((w, h), resample))


def normalise(pictures: torch.Tensor, config: DataConfig) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> the model's float input: ``/ 255``, channels matched, ``(x - mean) / std``.

    The one normalisation of the model's input, for pictures read from files
    (:func:`preprocess`, one at a time) and drawn on the device (a batch at
    once, :mod:`any2img.device.training`). A grey picture is repeated on
    every channel of a 3-channel model; a 1-channel model takes the mean.
    """
    x = pictures.float().div_(255.0)
    c = config.channels
    if x.shape[1] != c:
        if x.shape[1] == 1:
            x = x.expand(-1, c, -1, -1)
        elif c == 1:
            x = x.mean(dim=1, keepdim=True)
        else:
            raise ParameterError(f"cannot feed a {x.shape[1]}-channel image to a {c}-channel model.")
    mean = torch.tensor(config.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(config.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std


def _to_tensor(image: np.ndarray, config: DataConfig) -> torch.Tensor:
    if not image.flags.writeable or not image.flags.c_contiguous:
        image = np.array(image, dtype=np.uint8, order="C")
    return normalise(torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0), config)[0]


def preprocess(image: np.ndarray | str, config: DataConfig) -> torch.Tensor:
    """Turn one image (uint8 array or file path) into the model's input tensor.

    Parameters
    ----------
    image : ndarray of shape (H, W), (H, W, 1) or (H, W, 3), uint8, or a path
    config : DataConfig

    Returns
    -------
    torch.Tensor of shape (C, H, W), float32
        Resized to ``config.size`` and normalised with ``config.mean``/``std``.
    """
    arr = load_image(image)
    return _to_tensor(resize_image(arr, config.size, config.interpolation), config)


def preprocess_batch(images: Sequence[np.ndarray | str] | np.ndarray, config: DataConfig) -> torch.Tensor:
    """Stack :func:`preprocess` of many images into ``(N, C, H, W)``.

    Examples
    --------
    >>> cfg = DataConfig((3, 32, 32), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    >>> preprocess_batch(np.zeros((2, 20, 40), np.uint8), cfg).shape
    torch.Size([2, 3, 32, 32])
    """
    return torch.stack([preprocess(img, config) for img in images])


# -- augmentations -------------------------------------------------------------
class SpecAugment:
    """Mask random bands of time (columns) and frequency (rows), SpecAugment style.

    Masked pixels are set to 0 in the normalised tensor, i.e. the mean.

    Parameters
    ----------
    time_masks, freq_masks : int, default=2
        How many bands of each kind.
    max_time, max_freq : float in [0, 1], default=0.1
        Largest band width as a share of the width (height).
    p : float in [0, 1], default=1.0
        Probability that an image is masked at all.
    """

    def __init__(
        self, *, time_masks: int = 2, freq_masks: int = 2, max_time: float = 0.1, max_freq: float = 0.1,
        p: float = 1.0,
    ) -> None:
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.max_time = max_time
        self.max_freq = max_freq
        self.p = p

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n_time = check_int("time_masks", self.time_masks, low=0)
        n_freq = check_int("freq_masks", self.freq_masks, low=0)
        max_time = check_float("max_time", self.max_time, low=0.0, high=1.0)
        max_freq = check_float("max_freq", self.max_freq, low=0.0, high=1.0)
        p = check_float("p", self.p, low=0.0, high=1.0)
        if p < 1.0 and float(torch.rand(())) >= p:
            return x
        x = x.clone()
        h, w = x.shape[-2:]
        for _ in range(n_time):
            width = int(torch.randint(0, int(max_time * w) + 1, ()))
            if width:
                start = int(torch.randint(0, w - width + 1, ()))
                x[..., :, start:start + width] = 0.0
        for _ in range(n_freq):
            width = int(torch.randint(0, int(max_freq * h) + 1, ()))
            if width:
                start = int(torch.randint(0, h - width + 1, ()))
                x[..., start:start + width, :] = 0.0
        return x

    def __repr__(self) -> str:
        return (f"SpecAugment(time_masks={self.time_masks}, freq_masks={self.freq_masks}, "
                f"max_time={self.max_time}, max_freq={self.max_freq}, p={self.p})")


class TimeShift:
    """Roll the image along its time (horizontal) axis by a small random amount.

    Parameters
    ----------
    max_shift : float in [0, 1], default=0.1
        Largest shift as a share of the width, either way.
    """

    def __init__(self, *, max_shift: float = 0.1) -> None:
        self.max_shift = max_shift

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        max_shift = check_float("max_shift", self.max_shift, low=0.0, high=1.0)
        limit = int(max_shift * x.shape[-1])
        if limit == 0:
            return x
        shift = int(torch.randint(-limit, limit + 1, ()))
        return torch.roll(x, shifts=shift, dims=-1)

    def __repr__(self) -> str:
        return f"TimeShift(max_shift={self.max_shift})"


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


#: Augmentation names accepted by :func:`build_augment` and ``Learner(augment=...)``.
AUGMENTS: dict[str, Callable[[], Callable[[torch.Tensor], torch.Tensor]]] = {
    "specaugment": SpecAugment,
    "timeshift": TimeShift,
}


def build_augment(augment: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Turn an ``augment`` setting into a transform of normalised tensors.

    Parameters
    ----------
    augment : None, str, list of str or callable
        ``None`` or ``"none"``: no augmentation (the default everywhere).
        A name from :data:`AUGMENTS` (``"specaugment"``, ``"timeshift"``),
        several joined with ``"+"`` or given as a list, or a callable
        ``f(tensor (C, H, W)) -> tensor``.
    """
    if augment is None or augment == "none":
        return None
    if callable(augment):
        return augment
    names = augment.split("+") if isinstance(augment, str) else augment
    if not isinstance(names, (list, tuple)) or not names:
        raise ParameterError(f"'augment' must be None, a name, a list of names or a callable (got {augment!r}).")
    steps = []
    for name in names:
        key = str(name).strip().lower()
        if key not in AUGMENTS:
            raise ParameterError(
                f"'augment' must be None, a callable or among {', '.join(repr(k) for k in AUGMENTS)} "
                f"(got {name!r})."
            )
        steps.append(AUGMENTS[key]())
    return steps[0] if len(steps) == 1 else Compose(steps)
