"""Running a model over a dataset: logits, probabilities, per-item losses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from any2img.errors import ParameterError

if TYPE_CHECKING:
    from any2img.data.items import ImageItems
    from any2img.data.transforms import DataConfig

__all__ = ["predict_logits", "resolve_device", "softmax_np", "tta_mean"]


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    dataset: Dataset[tuple[torch.Tensor, int]],
    *,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    num_workers: int = 0,
    amp: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits (N, C) float32 on CPU, targets (N,) int64)`` in dataset order.

    The model is put in eval mode and left there.
    """
    model.eval()
    device = torch.device(device)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        pin_memory=device.type == "cuda")
    outs, targets = [], []
    for x, y in loader:
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            out = model(x.to(device, non_blocking=True))
        outs.append(out.float().cpu())
        targets.append(torch.as_tensor(y))
    if not outs:
        return torch.zeros((0, 0)), torch.zeros((0,), dtype=torch.int64)
    return torch.cat(outs), torch.cat(targets).long()


def tta_mean(model: nn.Module, items: ImageItems, classes: Sequence[str], config: DataConfig, probs: np.ndarray,
             passes: int, *, batch_size: int = 64, device: str | torch.device = "cpu", num_workers: int = 0,
             amp: bool = False, options: dict[str, Any] | None = None) -> np.ndarray:
    """``probs`` of ``items`` averaged with those of ``passes`` pictures drawn from perturbed raw signals.

    Pass ``k`` (1 to ``passes``) perturbs every item's window with numpy's
    generator seeded ``k`` (:class:`~any2img.data.signals.SignalDataset`
    with ``seed=k``): the same pictures whenever the items are scored, and
    the ones :class:`~any2img.predict.Predictor` draws from the raw input.
    ``options`` are the augmentation's (``Learner(augment_options=...)``).
    Needs the conversion's sources.
    """
    from any2img.data.signals import SignalDataset

    total = np.asarray(probs, dtype=np.float64)
    for k in range(1, passes + 1):
        logits, _ = predict_logits(model, SignalDataset(items, classes, config, seed=k, options=options),
                                   batch_size=batch_size, device=device, num_workers=num_workers, amp=amp)
        total = total + softmax_np(logits)
    return (total / (passes + 1)).astype(np.float32)


def softmax_np(logits: torch.Tensor) -> np.ndarray:
    """Softmax over classes, as a float32 numpy array."""
    return torch.softmax(logits.float(), dim=1).numpy().astype(np.float32)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA, else MPS, else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` as given (checked).

    The one device resolver of training, evaluation and prediction.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError(f"'device' must be 'auto', 'cpu', 'cuda' or 'cuda:N' (got {device!r}).") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"'device' is {device!r} but no CUDA device is available; use 'auto' or 'cpu'.")
    return dev
