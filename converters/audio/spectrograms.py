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
from typing import Any, ClassVar

import numpy as np

from any2img.errors import ParameterError
from any2img.validation import check_int

from .base import AudioConverter
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
)
from .relevance import cqt_frequencies, mel_frequencies

__all__ = ["CQT", "MFCC", "STFT", "Chroma", "Mel", "MelDeltas"]

#: Frequency of C1, the default lowest constant-Q bin (Hz).
C1_HZ = 32.70319566257483


class _STFTBased(AudioConverter):
    """Shared checks of the converters built on a short-time Fourier transform."""

    n_fft: Any
    hop_length: Any

    def _check_params(self) -> dict[str, Any]:
        p = super()._check_params()
        p["n_fft"] = check_int("n_fft", self.n_fft, low=4, high=2**16)
        p["hop_length"] = check_int("hop_length", self.hop_length, low=1)
        return p

    def _mel_db(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        basis = mel_basis(p["sample_rate"], p["n_fft"], p["n_mels"], p["fmin"], p["fmax"])
        return power_to_db(basis @ stft_power(y, p["n_fft"], p["hop_length"]))

    def _check_mel(self, p: dict[str, Any]) -> dict[str, Any]:
        p["n_mels"] = check_int("n_mels", self.n_mels, low=1)  # type: ignore[attr-defined]
        p["fmin"], p["fmax"] = self._check_fmax(self.fmin, self.fmax, p["sample_rate"])  # type: ignore[attr-defined]
        return p


class Mel(_STFTBased):
    """Log-mel spectrogram: one row per mel band (lowest at the bottom), one column per frame.

    Power spectrum (Hann window of ``n_fft`` samples every ``hop_length``),
    through ``n_mels`` triangular mel filters of peak 1 between ``fmin`` and
    ``fmax`` (Slaney mel scale), in dB against full scale: a full-scale sine
    at a band's centre reads about 0 dB (white); ``-top_db`` and below is
    black. See :mod:`any2img.converters.audio.base` for the parameters every
    audio converter shares.

    Parameters
    ----------
    sample_rate : int, default=16000
        Rate every signal is resampled to. FSDD is recorded at 8 kHz: with the
        default the bands above 4 kHz stay dark, so pass ``sample_rate=8000``
        (or ``fmax=4000``) to spend every row on real content.
    n_fft : int, default=1024
        FFT length in samples (64 ms at 16 kHz).
    hop_length : int, default=160
        Samples between frames (10 ms at 16 kHz).
    n_mels : int, default=128
        Mel bands (image rows at natural size).
    fmin : float, default=0.0
        Lowest frequency (Hz).
    fmax : float or None, default=None
        Highest frequency (Hz); ``None`` is ``sample_rate / 2``.
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :mod:`any2img.converters.audio.base`.

    Notes
    -----
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

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 160,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        return self._check_mel(super()._check_params())

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return mel_frequencies(p["n_mels"], p["fmin"], p["fmax"]), "Hz"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        return self._db_to_unit(self._mel_db(y, p), p)


class STFT(_STFTBased):
    """Log-magnitude short-time Fourier transform on a linear frequency axis.

    One row per FFT bin between ``fmin`` and ``fmax`` (lowest at the bottom),
    one column per frame; dB against full scale (a full-scale sine on a bin
    reads 0 dB, white), ``-top_db`` and below black.

    Parameters
    ----------
    sample_rate : int, default=16000
        Rate every signal is resampled to.
    n_fft : int, default=1024
        FFT length; ``n_fft // 2 + 1`` bins up to Nyquist.
    hop_length : int, default=160
        Samples between frames.
    fmin : float, default=0.0
        Keep the bins at or above this frequency (Hz).
    fmax : float or None, default=None
        Keep the bins at or below this frequency (Hz); ``None`` is Nyquist.
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :mod:`any2img.converters.audio.base`.

    Examples
    --------
    >>> STFT(n_fft=256).convert(np.zeros(1600, dtype=np.float32)).shape
    (129, 11, 3)
    """

    name: ClassVar[str] = "stft"

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 160,
        fmin: float = 0.0,
        fmax: float | None = None,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        p = super()._check_params()
        p["fmin"], p["fmax"] = self._check_fmax(self.fmin, self.fmax, p["sample_rate"])
        freqs = fft_frequencies(p["sample_rate"], p["n_fft"])
        rows = np.flatnonzero((freqs >= p["fmin"]) & (freqs <= p["fmax"]))
        if rows.size == 0:
            raise ParameterError(
                f"'fmin'..'fmax' ({p['fmin']:g}..{p['fmax']:g} Hz) must hold at least one FFT bin; bins are "
                f"{freqs[1]:g} Hz apart with n_fft={p['n_fft']} at sample_rate={p['sample_rate']}."
            )
        p["rows"] = slice(int(rows[0]), int(rows[-1]) + 1)
        return p

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return fft_frequencies(p["sample_rate"], p["n_fft"])[p["rows"]], "Hz"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        power = stft_power(y, p["n_fft"], p["hop_length"])[p["rows"]]
        return self._db_to_unit(power_to_db(power), p)


class MFCC(_STFTBased):
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

    Parameters
    ----------
    sample_rate : int, default=16000
    n_fft : int, default=1024
    hop_length : int, default=160
    n_mels : int, default=128
        Mel bands the cepstrum is taken over.
    n_mfcc : int, default=40
        Coefficients kept (image rows at natural size), <= ``n_mels``.
    fmin : float, default=0.0
    fmax : float or None, default=None
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :class:`Mel` and :mod:`any2img.converters.audio.base`.

    Examples
    --------
    >>> MFCC(n_mfcc=20).convert(np.zeros(16000, dtype=np.float32)).shape
    (20, 101, 3)
    """

    name: ClassVar[str] = "mfcc"

    #: Cosine amplitude (in units of top_db, after the sqrt(k) lifter) shown at black and white.
    COEF_RANGE: ClassVar[float] = 0.4

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 160,
        n_mels: int = 128,
        n_mfcc: int = 40,
        fmin: float = 0.0,
        fmax: float | None = None,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        p = self._check_mel(super()._check_params())
        p["n_mfcc"] = check_int("n_mfcc", self.n_mfcc, low=1, high=p["n_mels"])
        return p

    def coefficients(self, y: np.ndarray, p: dict[str, Any] | None = None) -> np.ndarray:
        """Return the cepstral amplitudes ``(n_mfcc, n_frames)`` of a mono signal at ``sample_rate``.

        Row 0 is ``mean(u)``; row ``k >= 1`` is ``a_k`` (before the lifter).
        """
        p = self._check_params() if p is None else p
        unit = self._db_to_unit(self._mel_db(np.asarray(y, dtype=np.float32), p), p)
        n_mels = p["n_mels"]
        coef = dct_basis(p["n_mfcc"], n_mels) @ unit
        coef[0] /= np.sqrt(n_mels)
        coef[1:] /= np.sqrt(n_mels / 2.0)
        return coef

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return np.arange(n_rows, dtype=np.float64), "coefficient"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        coef = self.coefficients(y, p)
        k = np.sqrt(np.arange(1, coef.shape[0], dtype=np.float32))[:, np.newaxis]
        coef[1:] = 0.5 + k * coef[1:] / np.float32(2 * self.COEF_RANGE)
        return np.clip(coef, 0.0, 1.0)


class CQT(AudioConverter):
    """Constant-Q transform: ``bins_per_octave`` log-spaced bins per octave from ``fmin``.

    ``librosa.cqt`` amplitude, each bin normalised so a full-scale sine at its
    centre reads 0 dB (white); ``-top_db`` and below black. Lowest bin at the
    bottom.

    Parameters
    ----------
    sample_rate : int, default=16000
    hop_length : int, default=160
        Samples between frames.
    fmin : float, default=32.70 (C1)
        Centre of the lowest bin (Hz).
    n_bins : int or None, default=None
        Bins (image rows at natural size); ``None`` takes every bin whose band
        fits below Nyquist (95 at 16 kHz, 83 at 8 kHz with the defaults).
    bins_per_octave : int, default=12
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :mod:`any2img.converters.audio.base`.

    Examples
    --------
    >>> CQT(n_bins=60).convert(np.zeros(1600, dtype=np.float32)).shape
    (60, 11, 3)
    """

    name: ClassVar[str] = "cqt"

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        hop_length: int = 160,
        fmin: float = C1_HZ,
        n_bins: int | None = None,
        bins_per_octave: int = 12,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.hop_length = hop_length
        self.fmin = fmin
        self.n_bins = n_bins
        self.bins_per_octave = bins_per_octave
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        p = super()._check_params()
        sr = p["sample_rate"]
        p["hop_length"] = check_int("hop_length", self.hop_length, low=1)
        p["bins_per_octave"] = bpo = check_int("bins_per_octave", self.bins_per_octave, low=1, high=240)
        p["fmin"], _ = self._check_fmax(self.fmin, None, sr)
        if p["fmin"] < sr / 4096:  # the lowest filter, Q * sample_rate / fmin samples long, stays bounded
            raise ParameterError(
                f"'fmin' must be a finite number >= sample_rate / 4096 ({sr / 4096:g} Hz) for the constant-Q "
                f"transform (got {self.fmin!r})."
            )
        most = cqt_max_bins(sr, p["fmin"], bpo)
        if most < 1:
            raise ParameterError(
                f"'fmin' must leave room for one constant-Q bin below Nyquist ({sr / 2:g} Hz) (got {self.fmin!r})."
            )
        if self.n_bins is None:
            p["n_bins"] = most
        else:
            if not (isinstance(self.n_bins, int) and not isinstance(self.n_bins, bool)) or self.n_bins > most:
                raise ParameterError(
                    f"'n_bins' must be None or an int in [1, {most}] so the top bin stays below Nyquist at "
                    f"sample_rate={sr} from fmin={p['fmin']:g} Hz (got {self.n_bins!r})."
                )
            p["n_bins"] = check_int("n_bins", self.n_bins, low=1)
        return p

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return cqt_frequencies(n_rows, p["fmin"], p["bins_per_octave"]), "Hz"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "n_fft too large" on short windows
            amp = cqt_amplitude(y, p["sample_rate"], p["hop_length"], p["fmin"], p["n_bins"], p["bins_per_octave"])
        return self._db_to_unit(power_to_db(amp**2), p)


class Chroma(_STFTBased):
    """Chromagram: energy per pitch class (C at the bottom), every octave counted alike.

    The power spectrum through ``librosa.filters.chroma`` (no octave
    weighting, tuned to A440), in dB against full scale: a full-scale sine on
    a pitch reads 0 dB (white) in its row; ``-top_db`` and below black. Unlike
    librosa's ``chroma_stft`` the frames are not normalised one by one, so
    silence stays black and quiet frames stay dark.

    Parameters
    ----------
    sample_rate : int, default=16000
    n_fft : int, default=2048
        FFT length; long windows resolve low pitches.
    hop_length : int, default=160
    n_chroma : int, default=12
        Pitch classes (image rows at natural size).
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :mod:`any2img.converters.audio.base`.

    Examples
    --------
    >>> Chroma().convert(np.zeros(1600, dtype=np.float32)).shape
    (12, 11, 3)
    """

    name: ClassVar[str] = "chroma"

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 2048,
        hop_length: int = 160,
        n_chroma: int = 12,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_chroma = n_chroma
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        p = super()._check_params()
        p["n_chroma"] = check_int("n_chroma", self.n_chroma, low=1)
        return p

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return np.arange(n_rows, dtype=np.float64), "pitch class"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        basis = chroma_basis(p["sample_rate"], p["n_fft"], p["n_chroma"])
        return self._db_to_unit(power_to_db(basis @ stft_power(y, p["n_fft"], p["hop_length"])), p)


class MelDeltas(_STFTBased):
    """Log-mel, its time derivative Δ and its second derivative Δ² as the R, G, B channels.

    * R: the log-mel spectrogram exactly as :class:`Mel` draws it;
    * G: Δ of the floored dB values (Savitzky-Golay over ``delta_width``
      frames), mid level 0, ±8 dB per frame at black/white;
    * B: Δ², mid level 0, ±4 dB per frame² at black/white.

    Fixed scales, so a clip and its slice agree away from the slice's edges.
    ``cmap`` is ignored (the three channels are the colours).

    Parameters
    ----------
    sample_rate : int, default=16000
    n_fft : int, default=1024
    hop_length : int, default=160
    n_mels : int, default=128
    fmin : float, default=0.0
    fmax : float or None, default=None
    delta_width : int, default=9
        Frames the derivatives are fitted over; odd, >= 3.
    top_db, ref, image_size, cmap, channels, duration, hop, pad_mode, trim_silence, trim_db
        See :class:`Mel` and :mod:`any2img.converters.audio.base`.

    Examples
    --------
    >>> MelDeltas(image_size=(64, 96)).convert(np.zeros(16000, dtype=np.float32)).shape
    (64, 96, 3)
    """

    name: ClassVar[str] = "mel_deltas"

    #: dB per frame (Δ) and per frame² (Δ²) shown at white; minus that at black.
    DELTA_RANGE_DB: ClassVar[float] = 8.0
    DELTA2_RANGE_DB: ClassVar[float] = 4.0

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 160,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        delta_width: int = 9,
        top_db: float = 80.0,
        ref: str = "max",
        image_size: int | tuple[int, int] | None = None,
        cmap: str = "grey",
        channels: str = "mono",
        duration: float | None = None,
        hop: float | None = None,
        pad_mode: str = "pad",
        trim_silence: bool = False,
        trim_db: float = 60.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.delta_width = delta_width
        self.top_db = top_db
        self.ref = ref
        self.image_size = image_size
        self.cmap = cmap
        self.channels = channels
        self.duration = duration
        self.hop = hop
        self.pad_mode = pad_mode
        self.trim_silence = trim_silence
        self.trim_db = trim_db

    def _check_params(self) -> dict[str, Any]:
        p = self._check_mel(super()._check_params())
        width = self.delta_width
        if not (isinstance(width, int) and not isinstance(width, bool) and width >= 3 and width % 2 == 1):
            raise ParameterError(f"'delta_width' must be an odd int >= 3 (got {width!r}).")
        p["delta_width"] = width
        return p

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        return mel_frequencies(p["n_mels"], p["fmin"], p["fmax"]), "Hz"

    def _unit_fields(self, y: np.ndarray, p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rel = np.minimum(self._relative_db(self._mel_db(y, p), p), np.float32(0.0))
        top = np.float32(p["top_db"])
        red = rel / top + np.float32(1.0)
        green = 0.5 + delta(rel, p["delta_width"], 1) / np.float32(2 * self.DELTA_RANGE_DB)
        blue = 0.5 + delta(rel, p["delta_width"], 2) / np.float32(2 * self.DELTA2_RANGE_DB)
        return red, np.clip(green, 0.0, 1.0), np.clip(blue, 0.0, 1.0)
