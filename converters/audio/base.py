"""What every audio converter shares: parameters, reading, windowing, scaling.

:class:`AudioConverter` is the base of the spectrogram family. Subclasses
declare their parameters in ``__init__`` (the common ones listed below plus
their own), extend :meth:`AudioConverter._check_params`, and implement
:meth:`AudioConverter._unit_fields`, which turns one mono window into a field
scaled to [0, 1] (or three, for an RGB picture) with row 0 the *lowest*
frequency; the base flips it so low frequencies sit at the bottom of the
image, resizes it and colours it.

Common parameters
-----------------
sample_rate : int, default=16000
    Every signal is resampled to this rate on reading (soxr); a bare array
    given to ``convert`` is taken to be at this rate.
channels : {"mono", "first", "each"}, default="mono"
    Mix the channels down, keep the first, or keep every channel ("each":
    one record per channel when reading a file, one run of windows per
    channel in ``segment``).
duration : float or None, default=None
    Window length in seconds (at most :data:`~.stream.MAX_WINDOW_SAMPLES`
    samples); ``None`` makes the whole clip one window, up to
    :data:`~.stream.LONG_CLIP_SECONDS` (60 s): a longer clip is cut into
    windows of that length.
hop : float or None, default=None
    Seconds between window starts (needs ``duration``); ``None`` = ``duration``.
pad_mode : {"pad", "loop", "crop"}, default="pad"
    How a window that runs past the end is filled (see
    :mod:`any2img.converters.audio.windows`).
trim_silence : bool, default=False
    Drop leading and trailing silence before windowing
    (:func:`librosa.effects.trim`).
trim_db : float, default=60.0
    What ``trim_silence`` calls silence: frames this many dB below the
    loudest frame.
ref : {"max", "full_scale"}, default="max"
    The 0 dB reference. ``"max"`` is librosa's ``ref=np.max``: each window
    is scaled to its own loudest point, so recording level does not matter
    (a silent window still gives the floor). It is the default because level
    rarely carries the class and varies between speakers and devices: with
    each FSDD speaker held out in turn, log-mel accuracy averaged 0.76
    against 0.66 with ``"full_scale"`` (``benchmarks/RESULTS.md``).
    ``"full_scale"`` is fixed: 0 dB is a full-scale sine, so images of
    different clips are comparable and a clip and a slice of it give the same
    pixels.
top_db : float, default=80.0
    Dynamic range shown: ``ref - top_db`` dB and below is black (the floor),
    ``ref`` and above is white.
image_size : int, (height, width) or None, default=None
    Output size; ``None`` keeps the natural size (one row per frequency bin,
    one column per frame).
cmap : str, default="grey"
    ``"grey"`` or a matplotlib colour map name.

A file longer than 60 s is streamed: each window reads its own block of the
file (:mod:`.stream`), so memory does not grow with the recording. One
window's field (rows x frames) may hold at most :data:`MAX_FIELD_CELLS`
values.

Silence is not an error: with the fixed reference it gives the floor image.
NaN or infinite samples, and empty signals, raise
:class:`~any2img.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from any2img.converter import Converter, Record, Window
from any2img.errors import InputError, ParameterError
from any2img.imaging import check_cmap, field_to_rgb, fields_to_rgb, resize_field
from any2img.relevance import SpectrogramRelevance, check_attribution
from any2img.validation import check_bool, check_choice, check_float, check_int, check_optional_size

from .features import POWER_FLOOR
from .io import AUDIO_EXTENSIONS, open_stream, read_audio
from .relevance import field_relevance, frame_times
from .signal import CHANNEL_MODES, AudioSignal, as_signal, check_finite, resample, select_channels
from .stream import LONG_CLIP_SECONDS, MAX_WINDOW_SAMPLES, AudioStream, StreamSpan, stream_trim_bounds
from .windows import PAD_MODES, fill, plan_spans, trim_bounds

__all__ = ["MAX_FIELD_CELLS", "REFERENCES", "AudioConverter", "synthetic_signal"]

#: What ``ref`` may be.
REFERENCES = ("full_scale", "max")

_AMIN_DB = 10.0 * np.log10(POWER_FLOOR)

#: The most values (rows x frames) one window's field may hold: 2**23, 32 MB as float32, 64 MB as the complex
#: spectrum behind it.
MAX_FIELD_CELLS = 2**23


class AudioConverter(Converter):
    """Base class of the audio converters (see the module docstring for the parameters)."""

    kind: ClassVar[str] = "audio"
    extensions: ClassVar[tuple[str, ...]] = AUDIO_EXTENSIONS

    # Set by subclasses' __init__; declared here for type checkers.
    sample_rate: Any
    channels: Any
    duration: Any
    hop: Any
    pad_mode: Any
    trim_silence: Any
    trim_db: Any
    ref: Any
    top_db: Any
    image_size: Any
    cmap: Any

    # -- parameters -------------------------------------------------------
    def _check_params(self) -> dict[str, Any]:
        p: dict[str, Any] = {}
        sr = p["sample_rate"] = check_int("sample_rate", self.sample_rate, low=1, high=384_000)
        p["channels"] = check_choice("channels", self.channels, CHANNEL_MODES)
        p["window"] = p["hop"] = None
        if self.duration is not None:
            duration = check_float("duration", self.duration, low=0.0, low_open=True)
            p["window"] = _samples("duration", duration, sr)
        if self.hop is not None:
            if self.duration is None:
                raise ParameterError(f"'hop' needs 'duration' (seconds per window) to be set (got hop={self.hop!r}).")
            p["hop"] = _samples("hop", check_float("hop", self.hop, low=0.0, low_open=True), sr)
        p["pad_mode"] = check_choice("pad_mode", self.pad_mode, PAD_MODES)
        p["trim_silence"] = check_bool("trim_silence", self.trim_silence)
        p["trim_db"] = check_float("trim_db", self.trim_db, low=0.0, low_open=True)
        p["ref"] = check_choice("ref", self.ref, REFERENCES)
        p["top_db"] = check_float("top_db", self.top_db, low=0.0, low_open=True)
        p["image_size"] = check_optional_size("image_size", self.image_size)
        p["cmap"] = check_cmap(self.cmap)
        return p

    @staticmethod
    def _check_fmax(fmin: Any, fmax: Any, sample_rate: int) -> tuple[float, float]:
        """Check ``fmin``/``fmax`` (``None`` = Nyquist) against the sample rate."""
        nyquist = sample_rate / 2.0
        lo = check_float("fmin", fmin, low=0.0, high=nyquist, high_open=True)
        if fmax is None:
            return lo, nyquist
        hi = check_float("fmax", fmax, low=lo, high=nyquist, low_open=True)
        return lo, hi

    # -- contract-test hook -------------------------------------------------
    @classmethod
    def example_signal(cls, rng: np.random.Generator | int | None = None) -> AudioSignal:
        """Return a short synthetic clip at the default sample rate (see :func:`synthetic_signal`)."""
        rate = cls.param_defaults().get("sample_rate", 16000)
        return synthetic_signal(rng, sample_rate=rate if isinstance(rate, int) else 16000)

    @classmethod
    def example_bad_signals(cls, rng: np.random.Generator | int | None = None) -> list[Any]:
        """Inputs :meth:`convert` rejects with InputError: empty, NaN, infinite, 3-D, text."""
        good = cls.example_signal(rng)
        with_nan = good.samples.copy()
        with_nan[0, good.n_samples // 2] = np.nan
        with_inf = good.samples[0].copy()
        with_inf[-1] = np.inf
        return [
            AudioSignal(good.samples[:, :0], good.sample_rate),
            np.zeros(0, dtype=np.float32),
            AudioSignal(with_nan, good.sample_rate),
            with_inf,
            np.zeros((2, 3, 4), dtype=np.float32),
            "clip.wav",
        ]

    # -- reading --------------------------------------------------------------
    def read(self, path: str | os.PathLike[str]) -> AudioSignal:
        """Read an audio file at ``sample_rate``, with the ``channels`` rule applied.

        Raises
        ------
        InputError
            Unsupported suffix, empty, corrupt or truncated file, no samples,
            NaN or infinite samples; the message starts with the path.
        """
        p = self._check_params()
        stream = open_stream(path, sample_rate=p["sample_rate"], channels=p["channels"])
        if stream is not None:  # a long recording: windows read their own blocks
            return stream  # type: ignore[return-value]
        return read_audio(path, sample_rate=p["sample_rate"], channels=p["channels"])

    def augment_signal(self, signal: Any, rng: np.random.Generator) -> Any:
        """A perturbed copy of a raw record: speed perturbation, time shift, gain and noise.

        See :mod:`any2img.converters.audio.augment`.
        """
        from any2img.converters.audio.augment import augment_audio

        return augment_audio(signal, rng)

    def read_records(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """Yield the file as one record, or one per channel (``key="ch0"``, …) with ``channels="each"``."""
        signal: AudioSignal | AudioStream = self.read(path)
        if signal.n_channels == 1:
            yield Record(signal)
            return
        if isinstance(signal, AudioStream):
            for c in range(signal.n_channels):
                yield Record(signal.one_channel(c), key=f"ch{c}", meta={"channel": c})
            return
        for c in range(signal.n_channels):
            yield Record(AudioSignal(signal.samples[c : c + 1], signal.sample_rate), key=f"ch{c}", meta={"channel": c})

    # -- windowing ------------------------------------------------------------
    def _prepare(self, data: Any, p: dict[str, Any]) -> AudioSignal:
        if isinstance(data, Window):
            data = data.data
        if isinstance(data, (StreamSpan, AudioStream)):
            data = data.load()
        signal = select_channels(as_signal(data, p["sample_rate"]), p["channels"])
        signal = check_finite(resample(signal, p["sample_rate"]))
        if signal.n_samples == 0:
            raise InputError("the audio is empty (0 samples)")
        return signal

    def segment(self, signal: Any) -> list[Window]:
        """Cut a signal into windows of ``duration`` seconds every ``hop`` seconds.

        Parameters
        ----------
        signal : AudioSignal or array-like
            An array is taken to be at ``sample_rate``.

        Returns
        -------
        list of Window
            ``data`` is a mono :class:`AudioSignal`; ``start``/``stop`` are
            seconds from the start of the (untrimmed) clip, ``unit="seconds"``.
            With ``channels="each"`` the windows of channel 0 come first.
        """
        p = self._check_params()
        if isinstance(signal, Window):
            signal = signal.data
        if isinstance(signal, AudioStream):
            return self._segment_stream(signal, p)
        sig = self._prepare(signal, p)
        sr = sig.sample_rate
        windows: list[Window] = []
        for c in range(sig.n_channels):
            samples = sig.samples[c : c + 1]
            lo, hi = 0, sig.n_samples
            if p["trim_silence"]:
                lo, hi = trim_bounds(samples, p["trim_db"])
            clip = samples[:, lo:hi]
            for span in plan_spans(hi - lo, _window_of(hi - lo, p), p["hop"], p["pad_mode"]):
                windows.append(
                    Window(
                        AudioSignal(fill(clip, span, p["pad_mode"]), sr),
                        index=len(windows),
                        start=(lo + span.start) / sr,
                        stop=(lo + span.stop) / sr,
                        unit="seconds",
                    )
                )
        return windows

    def _segment_stream(self, stream: AudioStream, p: dict[str, Any]) -> list[Window]:
        """The windows of a long file: each reads its own block when converted (see :mod:`.stream`)."""
        if stream.sample_rate != p["sample_rate"] or stream.channels != p["channels"]:
            stream = AudioStream(stream.path, stream.file_rate, stream.n_frames, stream.file_channels,
                                 p["sample_rate"], p["channels"], stream.channel)
        sr = stream.sample_rate
        channels = [stream.one_channel(c) for c in range(stream.n_channels)] if stream.n_channels > 1 else [stream]
        windows: list[Window] = []
        for one in channels:
            lo, hi = stream_trim_bounds(one, p["trim_db"]) if p["trim_silence"] else (0, one.n_samples)
            for span in plan_spans(hi - lo, _window_of(hi - lo, p), p["hop"], p["pad_mode"]):
                piece = StreamSpan(one, lo + span.start, lo + span.stop, span.length, p["pad_mode"], (lo, hi))
                windows.append(Window(piece, index=len(windows), start=(lo + span.start) / sr,
                                      stop=(lo + span.stop) / sr, unit="seconds"))
        return windows

    # -- converting -------------------------------------------------------
    def convert(self, window: Any) -> np.ndarray:
        """Return the image of one window, ``(H, W, 3)`` uint8, low frequencies at the bottom.

        Parameters
        ----------
        window : Window, AudioSignal or array-like
            One window (as :meth:`segment` gives), or a whole signal converted
            as it is. A bare 1-D array is taken to be at ``sample_rate``.
        """
        p = self._check_params()
        return self._render(self._mono(window, p), p)

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Convert many windows (parameters are checked once)."""
        p = self._check_params()
        return [self._render(self._mono(w, p), p) for w in windows]

    def _mono(self, window: Any, p: dict[str, Any]) -> np.ndarray:
        signal = self._prepare(window, p)
        if signal.n_channels != 1:
            raise InputError(
                f"channels='each' converts one channel at a time (got {signal.n_channels} channels); "
                "split them with segment() or read_records() first"
            )
        return signal.samples[0]

    def _render(self, y: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        _check_field_size(y.shape[0], p)
        fields = self._unit_fields(y, p)
        size = p["image_size"]
        if isinstance(fields, tuple):
            r, g, b = (resize_field(f[::-1], size) for f in fields)
            return fields_to_rgb(r, g, b)
        return field_to_rgb(resize_field(fields[::-1], size), p["cmap"])

    def _unit_fields(
        self, y: np.ndarray, p: dict[str, Any]
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the field(s) in [0, 1], ``(n_rows, n_frames)``, row 0 = lowest frequency."""
        raise NotImplementedError

    # -- explaining -------------------------------------------------------
    def relevance(self, attribution: np.ndarray, window: Any) -> SpectrogramRelevance:
        """Map an attribution over the image back onto seconds x frequency of the recording.

        Parameters
        ----------
        attribution : ndarray of shape (H, W)
            A score per pixel of ``convert(window)``.
        window : Window, AudioSignal or array-like
            The window the image was drawn from; a :class:`Window`'s
            ``start`` (seconds into the recording) shifts the times.

        Returns
        -------
        SpectrogramRelevance
            ``(n_rows, n_frames)`` with row 0 the lowest frequency, frame
            centres in seconds of the recording and row centres in Hz (or
            coefficient / pitch class); see :mod:`.relevance`.
        """
        p = self._check_params()
        fields = self._unit_fields(self._mono(window, p), p)
        n_rows, n_frames = (fields[0] if isinstance(fields, tuple) else fields).shape
        a = check_attribution(attribution, p["image_size"] or (n_rows, n_frames))
        start, where = 0.0, {}
        if isinstance(window, Window):
            where = window.describe()
            start = float(window.start) if window.unit == "seconds" else 0.0
        frequencies, unit = self._row_axis(p, n_rows)
        hop = p.get("hop_length", 1)
        return SpectrogramRelevance(
            field_relevance(a, n_rows, n_frames), frame_times(n_frames, hop, p["sample_rate"], start),
            np.asarray(frequencies, dtype=np.float64), unit, hop / p["sample_rate"], where,
        )

    def _row_axis(self, p: dict[str, Any], n_rows: int) -> tuple[np.ndarray, str]:
        """Centre of each field row and its unit; subclasses say (default: the row index)."""
        return np.arange(n_rows, dtype=np.float64), "row"

    # -- shared scaling -------------------------------------------------------
    @staticmethod
    def _relative_db(db: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        """dB relative to the reference, floored at ``-top_db`` (values above 0 kept)."""
        ref_db = 0.0
        if p["ref"] == "max":
            peak = float(db.max())
            ref_db = peak if peak > _AMIN_DB + 1e-3 else 0.0  # silence keeps the floor
        return np.maximum(db - np.float32(ref_db), np.float32(-p["top_db"]))

    @classmethod
    def _db_to_unit(cls, db: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        """Map ``[ref - top_db, ref]`` dB onto [0, 1]."""
        rel = cls._relative_db(db, p)
        return np.clip(rel / np.float32(p["top_db"]) + np.float32(1.0), 0.0, 1.0)


def _window_of(n_samples: int, p: dict[str, Any]) -> int | None:
    """The window length: ``duration``'s, or for a whole clip longer than LONG_CLIP_SECONDS, that length."""
    if p["window"] is not None:
        return int(p["window"])
    longest = min(int(LONG_CLIP_SECONDS * p["sample_rate"]), MAX_WINDOW_SAMPLES)
    return longest if n_samples > longest else None


def _check_field_size(n_samples: int, p: dict[str, Any]) -> None:
    """Refuse, before computing it, a field of more than MAX_FIELD_CELLS values (one image must fit in memory)."""
    hop = int(p.get("hop_length", 512))
    bins = int(p["n_fft"]) // 2 + 1 if "n_fft" in p else 0
    frames = 1 + n_samples // hop
    for key in ("n_mels", "n_chroma"):
        if key in p and int(p[key]) * max(bins, 1) > MAX_FIELD_CELLS:
            raise ParameterError(f"'{key}' x (n_fft // 2 + 1) must be at most {MAX_FIELD_CELLS} "
                                 f"(got {p[key]} x {bins}).")
    rows = max(int(p.get("n_bins", 0)), bins, int(p.get("n_mels", 0)), int(p.get("n_chroma", 0)), 1)
    if rows * frames > MAX_FIELD_CELLS:
        raise InputError(
            f"the window's field would hold {rows} x {frames} values, more than {MAX_FIELD_CELLS}; "
            "use a shorter 'duration', a larger 'hop_length' or fewer rows"
        )


def _samples(name: str, seconds: float, sample_rate: int) -> int:
    if seconds * sample_rate > MAX_WINDOW_SAMPLES:
        raise ParameterError(
            f"'{name}' must be at most {MAX_WINDOW_SAMPLES / sample_rate:g} s ({MAX_WINDOW_SAMPLES} samples) "
            f"at sample_rate={sample_rate} (got {seconds!r})."
        )
    n = int(round(seconds * sample_rate))
    if n < 1:
        raise ParameterError(
            f"'{name}' must be at least one sample, {1.0 / sample_rate:g} s at sample_rate={sample_rate} "
            f"(got {seconds!r})."
        )
    return n


def synthetic_signal(
    rng: np.random.Generator | int | None = None, *, sample_rate: int = 16000, duration: float = 0.5
) -> AudioSignal:
    """A short test clip: a rising chirp with a harmonic and a little noise.

    Parameters
    ----------
    rng : Generator, int or None
        Source of the noise (a seed is accepted).
    sample_rate : int, default=16000
    duration : float, default=0.5
        Seconds.

    Examples
    --------
    >>> synthetic_signal(0).samples.shape
    (1, 8000)
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = max(int(round(duration * sample_rate)), 1)
    t = np.arange(n) / sample_rate
    f0, f1 = 200.0, min(2000.0, sample_rate / 5.0)
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(duration, 1e-9)))
    envelope = np.minimum(1.0, np.minimum(t, t[-1] - t) * 40.0 + 0.05)
    y = envelope * (0.4 * np.sin(phase) + 0.1 * np.sin(2 * phase)) + 0.003 * gen.standard_normal(n)
    return AudioSignal(y.astype(np.float32), sample_rate)
