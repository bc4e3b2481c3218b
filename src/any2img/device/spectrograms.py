"""Spectrograms on the device: ``mel``, ``stft`` and ``mfcc``.

The maths of :mod:`any2img.converters.audio.spectrograms` and
:mod:`~any2img.converters.audio.features`, batched with torch: frames of
``n_fft`` samples every ``hop_length`` (zero padding at both ends, as
``stft_power``), a periodic Hann window, ``torch.fft.rfft``, power divided by
``(sum(window) / 2) ** 2``; librosa's own mel filter bank
(``librosa.filters.mel``, built once per device and cached) and the same
orthonormal DCT for MFCCs; dB with the -200 dBFS floor, ``ref="max"`` (each
clip's peak) or ``"full_scale"``, ``top_db``; rows flipped so low
frequencies sit at the bottom, resized as Pillow's bilinear filter (torch's
antialiased bilinear interpolation) and coloured. torchaudio is not used: no
wheel of it matches the torch installed here.

Windows of different lengths are computed in groups of equal length (a
group shares its frames and its natural picture size).

Tolerance (tested on FSDD clips at natural size and at 64 and 128 px): every
pixel within 1 grey level of the numpy converter's picture, at least 99 %
equal; the differences are float32 rounding in a different summation order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import torch

from any2img.converters.audio.features import POWER_FLOOR, dct_basis, mel_basis
from any2img.device.base import DeviceConverter
from any2img.device.common import colour, resize_fields

__all__ = ["DeviceMFCC", "DeviceMel", "DeviceSTFT", "power_to_db", "stft_power"]

_FLOOR_DB = 10.0 * float(np.log10(POWER_FLOOR))


@lru_cache(maxsize=32)
def _mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float, device: str) -> torch.Tensor:
    dense = mel_basis(sample_rate, n_fft, n_mels, fmin, fmax).toarray()
    return torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32)).to(device)


@lru_cache(maxsize=32)
def _dct_matrix(n_mfcc: int, n_mels: int, device: str) -> torch.Tensor:
    return torch.from_numpy(np.array(dct_basis(n_mfcc, n_mels))).to(device)


def stft_power(y: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """Power spectrograms ``(N, n_fft // 2 + 1, 1 + L // hop_length)`` of signals ``(N, L)``, as ``stft_power``."""
    n = torch.arange(n_fft, dtype=torch.float64, device=y.device)
    window = (0.5 - 0.5 * torch.cos(2.0 * torch.pi * n / n_fft)).float()
    pad = n_fft // 2
    padded = torch.nn.functional.pad(y.float(), (pad, n_fft - pad))
    n_frames = 1 + y.shape[-1] // hop_length
    frames = padded.unfold(-1, n_fft, hop_length)[:, :n_frames]
    spec = torch.fft.rfft(frames * window, dim=-1)
    power = spec.real**2 + spec.imag**2
    power = power * (4.0 / float(window.sum()) ** 2)
    return power.transpose(1, 2)


def power_to_db(power: torch.Tensor) -> torch.Tensor:
    """``10 * log10(max(power, POWER_FLOOR))``."""
    return 10.0 * torch.log10(torch.clamp(power, min=POWER_FLOOR))


class _DeviceSpectrogram(DeviceConverter):
    """Shared: raw mono windows, dB scaling, flipping, resizing, colouring."""

    def raw(self, window: Any) -> np.ndarray:
        """The mono window at ``sample_rate`` as float32, as the numpy converter reads it."""
        return np.ascontiguousarray(self.converter._mono(window, self.params), dtype=np.float32)  # type: ignore[attr-defined]

    def _unit(self, db: torch.Tensor) -> torch.Tensor:
        p = self.params
        if p.ref == "max":
            peak = db.amax(dim=(1, 2), keepdim=True)
            db = db - torch.where(peak > _FLOOR_DB + 1e-3, peak, torch.zeros_like(peak))
        rel = torch.clamp(db, min=-float(p.top_db))
        return torch.clamp(rel / float(p.top_db) + 1.0, 0.0, 1.0)

    def _mel_db(self, y: torch.Tensor) -> torch.Tensor:
        p = self.params
        basis = _mel_matrix(p.sample_rate, p.n_fft, p.n_mels, p.fmin, p.fmax, str(y.device))
        return power_to_db(torch.matmul(basis, stft_power(y, p.n_fft, p.hop_length)))

    def unit_fields(self, y: torch.Tensor) -> torch.Tensor:
        """Fields ``(N, rows, frames)`` in [0, 1], row 0 the lowest frequency."""
        raise NotImplementedError

    def convert_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """Pictures ``(N, 3, H, W)`` uint8 of equal-length mono windows ``(N, L)``."""
        fields = self.unit_fields(x).flip(-2)
        return colour(resize_fields(fields, self.params.image_size), self.params.cmap)


class DeviceMel(_DeviceSpectrogram):
    """Log-mel spectrograms with torch (see the module docstring)."""

    names: ClassVar[tuple[str, ...]] = ("mel",)

    def unit_fields(self, y: torch.Tensor) -> torch.Tensor:
        """Log-mel in [0, 1]."""
        return self._unit(self._mel_db(y))


class DeviceSTFT(_DeviceSpectrogram):
    """Log-power STFTs with torch (see the module docstring)."""

    names: ClassVar[tuple[str, ...]] = ("stft",)

    def unit_fields(self, y: torch.Tensor) -> torch.Tensor:
        """Log-power STFT rows ``fmin..fmax`` in [0, 1]."""
        p = self.params
        return self._unit(power_to_db(stft_power(y, p.n_fft, p.hop_length)[:, p.rows]))


class DeviceMFCC(_DeviceSpectrogram):
    """MFCC pictures with torch (see the module docstring)."""

    names: ClassVar[tuple[str, ...]] = ("mfcc",)

    def unit_fields(self, y: torch.Tensor) -> torch.Tensor:
        """Coefficients on the numpy converter's fixed scales, in [0, 1]."""
        p = self.params
        n_mels = p.n_mels
        coef = torch.matmul(_dct_matrix(p.n_mfcc, n_mels, str(y.device)), self._unit(self._mel_db(y)))
        k = torch.sqrt(torch.arange(1, coef.shape[1], dtype=torch.float32, device=y.device))[:, None]
        rest = 0.5 + k * (coef[:, 1:] / float(np.sqrt(n_mels / 2.0))) / float(2 * self.converter.COEF_RANGE)  # type: ignore[attr-defined]
        return torch.clamp(torch.cat([coef[:, :1] / float(np.sqrt(n_mels)), rest], dim=1), 0.0, 1.0)
