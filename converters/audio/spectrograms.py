"""The spectrogram family: ``mel``, ``stft``, ``mfcc``, ``cqt``, ``chroma``, ``mel_deltas``.

Every converter here reads audio files (WAV, FLAC, OGG, AIFF, MP3 where the
decoder has it), resamples to ``sample_rate``, cuts windows (``duration``,
``hop``, ``pad_mode``, ``trim_silence``) and draws each window with low
frequencies at the bottom. The parameters they share are described in
:mod:`any2img.converters.audio.base`.

Decibels are taken against each window's loudest point by default
(``ref="max"``, librosa's ``ref=np.max``), so a quiet and a loud recording of
the same word give the same picture; silence gives the floor image rather
than an error or noise blown up to full range. ``ref="full_scale"`` fixes the
reference instead: 0 dB is what a full-scale sine (amplitude 1.0) gives in
the band that holds it, and ``top_db`` below that is the black floor, so the
mapping from sound to pixels does not depend on the rest of the clip and a
clip and a slice of it give the same pixels in the columns they share.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

from any2img.errors import ParameterError
from any2img.imaging import field_to_rgb, resize_field
from any2img.parameters import Check, ConverterParams, Float, Int, Optional, Ref, param, redefault

from .base import MAX_FIELD_CELLS, AudioConverter, AudioParams, check_field_size
from .features import (
    chroma_basis,
    cqt_amplitude,
    cqt_max_bins,
    dct_basis,
    delta,
    fft_frequencies,
    mel_basis,
    power_to_db,
    stft_power,
    stft_power_many,
)
from .relevance import cqt_frequencies, mel_frequencies

__all__ = [
    "CQT", "MFCC", "STFT", "BandParams", "CQTParams", "Chroma", "ChromaParams", "FFTParams", "MFCCParams", "Mel",
    "MelDeltas", "MelDeltasParams", "MelParams", "STFTParams",
]

#: Frequency of C1, the default lowest constant-Q bin (Hz).
C1_HZ = 32.70319566257483


#: The most frames a Δ / Δ² is fitted over (the Savitzky-Golay filter holds about 3 x that many coefficients).
MAX_DELTA_WIDTH = 999

_NYQUIST = Ref("sample_rate / 2", lambda p: p.sample_rate / 2.0)


def _check_delta_width(name: str, width: Any) -> int:
    if not (isinstance(width, int) and not isinstance(width, bool) and width >= 3 and width % 2 == 1):
        raise ParameterError(f"'{name}' must be an odd int >= 3 (got {width!r}).")
    if width > MAX_DELTA_WIDTH:
        raise ParameterError(f"'{name}' must be at most {MAX_DELTA_WIDTH} frames (got {width!r}).")
    return width


def _at_most_cells(name: str, rows: int, bins: int) -> None:
    if rows * max(bins, 1) > MAX_FIELD_CELLS:
        raise ParameterError(f"'{name}' x (n_fft // 2 + 1) must be at most {MAX_FIELD_CELLS} (got {rows} x {bins}).")


@dataclass(frozen=True, kw_only=True)
class FFTParams(AudioParams):
    """Converters built on a short-time Fourier transform."""

    n_fft: int = param(1024, Int(4, 2**16), "FFT length in samples (64 ms at 16 kHz); n_fft // 2 + 1 bins.")

    def field_rows(self) -> int:
        return max(super().field_rows(), self.n_fft // 2 + 1)


@dataclass(frozen=True, kw_only=True)
class BandParams(FFTParams):
    """A band of frequencies, ``fmin`` to ``fmax``."""

    fmin: float = param(0.0, Float(0.0, _NYQUIST, high_open=True), "Lowest frequency (Hz).")
    fmax: float = param(None, Optional(Float(Ref("fmin", lambda p: p.fmin), _NYQUIST, low_open=True)),
                        "Highest frequency (Hz); None is sample_rate / 2.")

    def _relate(self) -> None:
        super()._relate()
        if self.fmax is None:
            self._derive(fmax=self.sample_rate / 2.0)


@dataclass(frozen=True, kw_only=True)
class STFTParams(BandParams):
    """``stft``: the FFT bins between ``fmin`` and ``fmax``."""

    #: The FFT bins kept (derived).
    rows: slice = field(init=False, default_factory=lambda: slice(0))

    def _relate(self) -> None:
        super()._relate()
        freqs = fft_frequencies(self.sample_rate, self.n_fft)
        rows = np.flatnonzero((freqs >= self.fmin) & (freqs <= self.fmax))
        if rows.size == 0:
            raise ParameterError(
                f"'fmin'..'fmax' ({self.fmin:g}..{self.fmax:g} Hz) must hold at least one FFT bin; bins are "
                f"{freqs[1]:g} Hz apart with n_fft={self.n_fft} at sample_rate={self.sample_rate}."
            )
        self._derive(rows=slice(int(rows[0]), int(rows[-1]) + 1))


@dataclass(frozen=True, kw_only=True)
class MelParams(BandParams):
    """``mel`` (and what is built on it): mel bands over ``fmin``..``fmax``."""

    n_mels: int = param(128, Int(low=1), "Mel bands (image rows at natural size).")

    def _relate(self) -> None:
        super()._relate()
        _at_most_cells("n_mels", self.n_mels, self.n_fft // 2 + 1)

    def field_rows(self) -> int:
        return max(super().field_rows(), self.n_mels)


@dataclass(frozen=True, kw_only=True)
class MFCCParams(MelParams):
    """``mfcc``."""

    n_mfcc: int = param(40, Int(1, Ref("n_mels", lambda p: p.n_mels)),
                        "Coefficients kept (image rows at natural size), at most n_mels.")


@dataclass(frozen=True, kw_only=True)
class MelDeltasParams(MelParams):
    """``mel_deltas``."""

    delta_width: int = param(9, Check(_check_delta_width, f"odd int in [3, {MAX_DELTA_WIDTH}]",
                                      bad=(4, 1, 9.0, True, MAX_DELTA_WIDTH + 2)),
                             "Frames the derivatives are fitted over.")


@dataclass(frozen=True, kw_only=True)
class ChromaParams(FFTParams):
    """``chroma``."""

    n_fft: int = redefault(FFTParams, "n_fft", 2048)
    n_chroma: int = param(12, Int(low=1), "Pitch classes (image rows at natural size).")

    def _relate(self) -> None:
        super()._relate()
        _at_most_cells("n_chroma", self.n_chroma, self.n_fft // 2 + 1)

    def field_rows(self) -> int:
        return max(super().field_rows(), self.n_chroma)


@dataclass(frozen=True, kw_only=True)
class CQTParams(AudioParams):
    """``cqt``."""

    bins_per_octave: int = param(12, Int(1, 240), "Bins per octave.")
    fmin: float = param(C1_HZ, Float(0.0, _NYQUIST, high_open=True), "Centre of the lowest bin (Hz); C1 by default.")
    n_bins: int = param(None, Optional(Int(low=1)), "Bins (image rows at natural size); None: every bin whose "
                        "band fits below Nyquist (95 at 16 kHz, 83 at 8 kHz).")

    def _relate(self) -> None:
        super()._relate()
        sr = self.sample_rate
        if self.fmin < sr / 4096:  # the lowest filter, Q * sample_rate / fmin samples long, stays bounded
            raise ParameterError(
                f"'fmin' must be a finite number >= sample_rate / 4096 ({sr / 4096:g} Hz) for the constant-Q "
                f"transform (got {self.fmin!r})."
            )
        most = cqt_max_bins(sr, self.fmin, self.bins_per_octave)
        if most < 1:
            raise ParameterError(
                f"'fmin' must leave room for one constant-Q bin below Nyquist ({sr / 2:g} Hz) (got {self.fmin!r})."
            )
        if self.n_bins is None:
            self._derive(n_bins=most)
        elif self.n_bins > most:
            raise ParameterError(
                f"'n_bins' must be None or an int in [1, {most}] so the top bin stays below Nyquist at "
                f"sample_rate={sr} from fmin={self.fmin:g} Hz (got {self.n_bins!r})."
            )

    def field_rows(self) -> int:
        return max(self.n_bins, 1)


FP = TypeVar("FP", bound=FFTParams)
MP = TypeVar("MP", bound=MelParams)


class _STFTBased(AudioConverter[FP]):
    """The converters built on a short-time Fourier transform."""


class _MelBased(_STFTBased[MP]):
    """The converters built on the log-mel spectrogram."""

    def _mel_db(self, y: np.ndarray, p: MelParams) -> np.ndarray:
        basis = mel_basis(p.sample_rate, p.n_fft, p.n_mels, p.fmin, p.fmax)
        return power_to_db(basis @ stft_power(y, p.n_fft, p.hop_length))

    def _row_axis(self, p: MP, n_rows: int) -> tuple[np.ndarray, str]:
        return mel_frequencies(p.n_mels, p.fmin, p.fmax), "Hz"


class Mel(_MelBased[MelParams]):
    """Log-mel spectrogram: one row per mel band (lowest at the bottom), one column per frame.

    Power spectrum (Hann window of ``n_fft`` samples every ``hop_length``),
    through ``n_mels`` triangular mel filters of peak 1 between ``fmin`` and
    ``fmax`` (Slaney mel scale), in dB against full scale: a full-scale sine
    at a band's centre reads about 0 dB (white); ``-top_db`` and below is
    black. See :mod:`any2img.converters.audio.base` for the parameters every
    audio converter shares.

    Notes
    -----
    FSDD is recorded at 8 kHz: at the default ``sample_rate`` (16 kHz) the
    bands above 4 kHz stay dark. ``convert_dir`` and ``any2img convert`` keep
    such files' own rate (:meth:`AudioConverter.params_from_sources`); a
    converter built by hand needs ``sample_rate=8000`` (or ``fmax=4000``) to
    spend every row on real content.

    The dB reference is each window's loudest point (``ref="max"``), so
    recording level does not change the picture. With ``ref="full_scale"``
    0 dB is a full-scale sine, so the pixel of a time-frequency cell depends
    only on the sound in that cell's frame: a clip and any slice of it (cut on
    a frame boundary) give identical columns away from the slice's edges, and
    recordings of different loudness stay comparable.

    Examples
    --------
    >>> conv = Mel(image_size=128)
    >>> conv.convert(np.zeros(16000, dtype=np.float32)).shape
    (128, 128, 3)
    >>> Mel().convert(np.zeros(16000, dtype=np.float32)).shape  # natural size: n_mels x frames
    (128, 101, 3)
    """

    name: ClassVar[str] = "mel"
    params_class: ClassVar[type[ConverterParams] | None] = MelParams

    #: Most frame samples (frames x n_fft) one pass of convert_batch holds: 2 MB as float32, so a pass stays in
    #: the cache (passes of 16 MB took 1.7x as long on FSDD clips, benchmarks/SPEED.md).
    BATCH_FRAME_CELLS: ClassVar[int] = 2**19

    def _unit_fields(self, y: np.ndarray, p: MelParams) -> np.ndarray:
        return self._db_to_unit(self._mel_db(y, p), p)

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Convert many windows: the same pictures as :meth:`convert`, in passes of many clips at once.

        A pass stacks the frames of its clips (up to :attr:`BATCH_FRAME_CELLS`
        samples) through one windowing, ``rfft`` and power step, one product
        with the mel filter bank and one dB, reference and colouring step;
        only the resize (Pillow, when ``image_size`` is set) is per clip.
        """
        p = self._p()
        pictures: list[np.ndarray] = []
        batch: list[np.ndarray] = []
        cells = 0
        for w in windows:
            y = self._mono(w, p)
            check_field_size(y.shape[0], p)
            n = (1 + y.shape[0] // p.hop_length) * p.n_fft
            if batch and cells + n > self.BATCH_FRAME_CELLS:
                pictures.extend(self._render_many(batch, p))
                batch, cells = [], 0
            batch.append(y)
            cells += n
        if batch:
            pictures.extend(self._render_many(batch, p))
        return pictures

    def _render_many(self, ys: list[np.ndarray], p: MelParams) -> list[np.ndarray]:
        basis = mel_basis(p.sample_rate, p.n_fft, p.n_mels, p.fmin, p.fmax)
        counts = np.array([1 + y.shape[0] // p.hop_length for y in ys])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        db = power_to_db(basis @ stft_power_many(ys, p.n_fft, p.hop_length))
        flipped = self._db_to_unit_columns(db, starts, counts, p)[::-1]
        if p.image_size is None:
            rgb = field_to_rgb(flipped, p.cmap)
            return [np.ascontiguousarray(rgb[:, s : s + c]) for s, c in zip(starts, counts)]
        size = p.image_size
        fields = np.stack([resize_field(flipped[:, s : s + c], size) for s, c in zip(starts, counts)])
        return list(field_to_rgb(fields, p.cmap))


class STFT(_STFTBased[STFTParams]):
    """Log-magnitude short-time Fourier transform on a linear frequency axis.

    One row per FFT bin between ``fmin`` and ``fmax`` (lowest at the bottom),
    one column per frame; dB against full scale (a full-scale sine on a bin
    reads 0 dB, white), ``-top_db`` and below black.

    Examples
    --------
    >>> STFT(n_fft=256).convert(np.zeros(1600, dtype=np.float32)).shape
    (129, 11, 3)
    """

    name: ClassVar[str] = "stft"
    params_class: ClassVar[type[ConverterParams] | None] = STFTParams

    def _row_axis(self, p: STFTParams, n_rows: int) -> tuple[np.ndarray, str]:
        return fft_frequencies(p.sample_rate, p.n_fft)[p.rows], "Hz"

    def _unit_fields(self, y: np.ndarray, p: STFTParams) -> np.ndarray:
        power = stft_power(y, p.n_fft, p.hop_length)[p.rows]
        return self._db_to_unit(power_to_db(power), p)


class MFCC(_MelBased[MFCCParams]):
    """Mel-frequency cepstral coefficients: coefficient 0 at the bottom, one column per frame.

    The log-mel spectrogram (as :class:`Mel`, floored at ``-top_db``) is
    scaled to ``u`` in [0, 1] and taken through an orthonormal DCT-II. The
    picture uses fixed scales, so it too is the same for a clip and its
    slices:

    * row 0 is the mean level ``mean(u)`` (0 = the floor, 1 = full scale);
    * row ``k >= 1`` is ``0.5 + sqrt(k) * a_k / 0.8``, clipped, where ``a_k``
      is the amplitude of the k-th cosine of the log-mel envelope in units of
      ``top_db`` (independent of ``n_mels``). The ``sqrt(k)`` lifter evens out
      the natural decay of the higher coefficients; mid grey is 0.

    Examples
    --------
    >>> MFCC(n_mfcc=20).convert(np.zeros(16000, dtype=np.float32)).shape
    (20, 101, 3)
    """

    name: ClassVar[str] = "mfcc"
    params_class: ClassVar[type[ConverterParams] | None] = MFCCParams

    #: Cosine amplitude (in units of top_db, after the sqrt(k) lifter) shown at black and white.
    COEF_RANGE: ClassVar[float] = 0.4

    def coefficients(self, y: np.ndarray, p: MFCCParams | None = None) -> np.ndarray:
        """Return the cepstral amplitudes ``(n_mfcc, n_frames)`` of a mono signal at ``sample_rate``.

        Row 0 is ``mean(u)``; row ``k >= 1`` is ``a_k`` (before the lifter).
        """
        p = self._p() if p is None else p
        unit = self._db_to_unit(self._mel_db(np.asarray(y, dtype=np.float32), p), p)
        coef = dct_basis(p.n_mfcc, p.n_mels) @ unit
        coef[0] /= np.sqrt(p.n_mels)
        coef[1:] /= np.sqrt(p.n_mels / 2.0)
        return coef

    def _row_axis(self, p: MFCCParams, n_rows: int) -> tuple[np.ndarray, str]:
        return np.arange(n_rows, dtype=np.float64), "coefficient"

    def _unit_fields(self, y: np.ndarray, p: MFCCParams) -> np.ndarray:
        coef = self.coefficients(y, p)
        k = np.sqrt(np.arange(1, coef.shape[0], dtype=np.float32))[:, np.newaxis]
        coef[1:] = 0.5 + k * coef[1:] / np.float32(2 * self.COEF_RANGE)
        return np.clip(coef, 0.0, 1.0)


class CQT(AudioConverter[CQTParams]):
    """Constant-Q transform: ``bins_per_octave`` log-spaced bins per octave from ``fmin``.

    ``librosa.cqt`` amplitude, each bin normalised so a full-scale sine at its
    centre reads 0 dB (white); ``-top_db`` and below black. Lowest bin at the
    bottom.

    Examples
    --------
    >>> CQT(n_bins=60).convert(np.zeros(1600, dtype=np.float32)).shape
    (60, 11, 3)
    """

    name: ClassVar[str] = "cqt"
    params_class: ClassVar[type[ConverterParams] | None] = CQTParams

    def _row_axis(self, p: CQTParams, n_rows: int) -> tuple[np.ndarray, str]:
        return cqt_frequencies(n_rows, p.fmin, p.bins_per_octave), "Hz"

    def _unit_fields(self, y: np.ndarray, p: CQTParams) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "n_fft too large" on short windows
            amp = cqt_amplitude(y, p.sample_rate, p.hop_length, p.fmin, p.n_bins, p.bins_per_octave)
        return self._db_to_unit(power_to_db(amp**2), p)


class Chroma(_STFTBased[ChromaParams]):
    """Chromagram: energy per pitch class (C at the bottom), every octave counted alike.

    The power spectrum through ``librosa.filters.chroma`` (no octave
    weighting, tuned to A440), in dB against full scale: a full-scale sine on
    a pitch reads 0 dB (white) in its row; ``-top_db`` and below black. Unlike
    librosa's ``chroma_stft`` the frames are not normalised one by one, so
    silence stays black and quiet frames stay dark. The longer default
    ``n_fft`` (2048) resolves low pitches.

    Examples
    --------
    >>> Chroma().convert(np.zeros(1600, dtype=np.float32)).shape
    (12, 11, 3)
    """

    name: ClassVar[str] = "chroma"
    params_class: ClassVar[type[ConverterParams] | None] = ChromaParams

    def _row_axis(self, p: ChromaParams, n_rows: int) -> tuple[np.ndarray, str]:
        return np.arange(n_rows, dtype=np.float64), "pitch class"

    def _unit_fields(self, y: np.ndarray, p: ChromaParams) -> np.ndarray:
        basis = chroma_basis(p.sample_rate, p.n_fft, p.n_chroma)
        return self._db_to_unit(power_to_db(basis @ stft_power(y, p.n_fft, p.hop_length)), p)


class MelDeltas(_MelBased[MelDeltasParams]):
    """Log-mel, its time derivative Δ and its second derivative Δ² as the R, G, B channels.

    * R: the log-mel spectrogram exactly as :class:`Mel` draws it;
    * G: Δ of the floored dB values (Savitzky-Golay over ``delta_width``
      frames), mid level 0, ±8 dB per frame at black/white;
    * B: Δ², mid level 0, ±4 dB per frame² at black/white.

    Fixed scales, so a clip and its slice agree away from the slice's edges.
    ``cmap`` is ignored (the three channels are the colours).

    Examples
    --------
    >>> MelDeltas(image_size=(64, 96)).convert(np.zeros(16000, dtype=np.float32)).shape
    (64, 96, 3)
    """

    name: ClassVar[str] = "mel_deltas"
    params_class: ClassVar[type[ConverterParams] | None] = MelDeltasParams

    #: dB per frame (Δ) and per frame² (Δ²) shown at white; minus that at black.
    DELTA_RANGE_DB: ClassVar[float] = 8.0
    DELTA2_RANGE_DB: ClassVar[float] = 4.0

    def _unit_fields(self, y: np.ndarray, p: MelDeltasParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rel = np.minimum(self._relative_db(self._mel_db(y, p), p), np.float32(0.0))
        top = np.float32(p.top_db)
        red = rel / top + np.float32(1.0)
        green = 0.5 + delta(rel, p.delta_width, 1) / np.float32(2 * self.DELTA_RANGE_DB)
        blue = 0.5 + delta(rel, p.delta_width, 2) / np.float32(2 * self.DELTA2_RANGE_DB)
        return red, np.clip(green, 0.0, 1.0), np.clip(blue, 0.0, 1.0)
