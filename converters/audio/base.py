"""What every audio converter shares: parameters, reading, windowing, scaling.

:class:`AudioConverter` is the base of the spectrogram family. Subclasses
declare their own parameters in a subclass of :class:`AudioParams` (named in
``params_class``) and implement
:meth:`AudioConverter._unit_fields`, which turns one mono window into a field
scaled to [0, 1] (or three, for an RGB picture) with row 0 the *lowest*
frequency; the base flips it so low frequencies sit at the bottom of the
image, resizes it and colours it.

The parameters every audio converter shares are declared once, in
:class:`AudioParams` (``any2img list --kind audio`` shows them with their
rules). Two of them deserve more than their one line:

``duration`` / ``hop``
    ``duration=None`` makes the whole clip one window, up to
    :data:`~.stream.LONG_CLIP_SECONDS` (60 s): a longer clip is cut into
    windows of that length. A window holds at most
    :data:`~.stream.MAX_WINDOW_SAMPLES` samples.
``ref``
    ``"max"`` is librosa's ``ref=np.max``: each window is scaled to its own
    loudest point, so recording level does not matter (a silent window still
    gives the floor). It is the default because level rarely carries the
    class and varies between speakers and devices: with each FSDD speaker
    held out in turn, log-mel accuracy averaged 0.76 against 0.66 with
    ``"full_scale"`` (``benchmarks/RESULTS.md``). ``"full_scale"`` is fixed:
    0 dB is a full-scale sine, so images of different clips are comparable
    and a clip and a slice of it give the same pixels.

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
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast

import numpy as np

from any2img.converter import Converter, Record, Window
from any2img.errors import InputError, ParameterError
from any2img.imaging import field_to_rgb, fields_to_rgb, resize_field
from any2img.parameters import Bool, Choice, Cmap, ConverterParams, Float, Int, Optional, Size, param
from any2img.relevance import SpectrogramRelevance, TimeRelevance, check_attribution
from any2img.removal import SignalParts, with_data

from .features import POWER_FLOOR
from .io import AUDIO_EXTENSIONS, native_rate, open_stream, read_audio
from .relevance import field_relevance, frame_times
from .removal import delete_frames
from .signal import CHANNEL_MODES, AudioSignal, as_signal, check_finite, resample, select_channels
from .stream import LONG_CLIP_SECONDS, MAX_WINDOW_SAMPLES, AudioStream, StreamSpan, stream_trim_bounds
from .windows import PAD_MODES, fill, plan_spans, trim_bounds

__all__ = ["MAX_FIELD_CELLS", "REFERENCES", "AudioConverter", "AudioParams", "check_field_size",
           "synthetic_signal"]

#: What ``ref`` may be.
REFERENCES = ("full_scale", "max")

_AMIN_DB = 10.0 * np.log10(POWER_FLOOR)

#: The most values (rows x frames) one window's field may hold: 2**23, 32 MB as float32, 64 MB as the complex
#: spectrum behind it.
MAX_FIELD_CELLS = 2**23


@dataclass(frozen=True, kw_only=True)
class AudioParams(ConverterParams):
    """The parameters every audio converter takes, checked."""

    sample_rate: int = param(16000, Int(1, 384_000), "Every signal is resampled to this rate on reading (soxr); "
                             "a bare array given to convert() is taken to be at it. convert_dir and "
                             "`any2img convert` take the files' own rate where most are recorded below it.")
    channels: str = param("mono", Choice(CHANNEL_MODES), "Mix the channels down, keep the first, or keep each "
                          "(one record, or one run of windows, per channel).")
    duration: float | None = param(None, Optional(Float(0.0, low_open=True)),
                                   "Window length in seconds; None: the whole clip (cut every 60 s).")
    hop: float | None = param(None, Optional(Float(0.0, low_open=True)),
                              "Seconds between window starts (needs duration); None: duration.")
    pad_mode: str = param("pad", Choice(PAD_MODES), "How a window that runs past the end is filled "
                          "(see any2img.converters.audio.windows).")
    trim_silence: bool = param(False, Bool(), "Drop leading and trailing silence before windowing.")
    trim_db: float = param(60.0, Float(0.0, low_open=True), "What trim_silence calls silence: frames this many "
                           "dB below the loudest.")
    ref: str = param("max", Choice(REFERENCES), "The 0 dB reference: each window's loudest point, or a "
                     "full-scale sine.")
    top_db: float = param(80.0, Float(0.0, low_open=True), "Dynamic range shown: ref - top_db dB and below is "
                          "black, ref and above white.")
    image_size: tuple[int, int] | None = param(None, Optional(Size()), "Output size; None keeps the natural size "
                                               "(a row per frequency bin, a column per frame).")
    cmap: str = param("grey", Cmap(), "Colour map of the field.")
    hop_length: int = param(160, Int(low=1), "Samples between frames (10 ms at 16 kHz).")
    #: ``duration`` and ``hop`` in samples (derived).
    window_samples: int | None = field(init=False, default=None)
    hop_samples: int | None = field(init=False, default=None)

    def _relate(self) -> None:
        super()._relate()
        if self.hop is not None and self.duration is None:
            raise ParameterError(f"'hop' needs 'duration' (seconds per window) to be set (got hop={self.hop!r}).")
        self._derive(window_samples=None if self.duration is None else _samples("duration", self.duration,
                                                                                self.sample_rate),
                     hop_samples=None if self.hop is None else _samples("hop", self.hop, self.sample_rate))

    def field_rows(self) -> int:
        """Rows of the largest array one window's field is computed through (for the memory bound)."""
        return 1


AP = TypeVar("AP", bound=AudioParams)


class AudioConverter(Converter, Generic[AP]):
    """Base class of the audio converters (see the module docstring for the parameters)."""

    kind: ClassVar[str] = "audio"
    extensions: ClassVar[tuple[str, ...]] = AUDIO_EXTENSIONS
    params_class: ClassVar[type[ConverterParams] | None] = AudioParams
    #: Speed perturbation, shift, gain and noise win for unseen speakers: on FSDD's validation protocol (the
    #: judge one whole unseen speaker of 450 clips) 0.700 -> 0.809 and 0.733 -> 0.782 on two seeds
    #: (``benchmarks/DEFAULTS.md``); a random equaliser on top, for other microphones, won for five of six
    #: judges (sixth round).
    augments_by_default: ClassVar[bool] = True
    #: Speed perturbation, time shift, gain, colouring and noise (:mod:`any2img.converters.audio.augment`).
    augmentation: ClassVar[str | None] = "any2img.converters.audio.augment:augment_audio"

    #: The most sources :meth:`params_from_sources` reads a header of (evenly spaced over the sorted list).
    PROBED_SOURCES: ClassVar[int] = 256
    source_params: ClassVar[tuple[str, ...]] = ("sample_rate",)

    @classmethod
    def params_from_sources(cls, sources: Sequence[os.PathLike[str]]) -> dict[str, Any]:
        """``sample_rate``: the sources' own rate where most of them are recorded below the default.

        Resampling up to the default (16 kHz) only adds bands above the
        recordings' Nyquist frequency that stay dark: half of each picture
        for 8 kHz speech. On FSDD's validation protocol (8 kHz; each of its
        six speakers judging once) mel pictures at the files' own rate beat
        16 kHz ones on every judge, 0.830 against 0.763 on average
        (``benchmarks/DEFAULTS.md``, eighth round).
        Rates above the default are still resampled down to it, as before.

        Where more than half of at most :data:`PROBED_SOURCES` headers state a
        rate below the default, the most common of those rates is taken (ties:
        the lower), so one odd file cannot move the whole conversion and a
        corpus mostly at 44.1 kHz stays at 16 kHz; a source whose header
        soundfile cannot read (MP3 with an old libsndfile, a URL) is passed
        over.

        Parameters
        ----------
        sources : sequence of path-like

        Returns
        -------
        dict
            ``{"sample_rate": rate}``, or ``{}`` where the default stands.
        """
        default = cls.param_defaults().get("sample_rate")
        if not isinstance(default, int) or not sources:
            return {}
        step = -(-len(sources) // cls.PROBED_SOURCES)
        rates = [r for r in (native_rate(s) for s in list(sources)[::step]) if r is not None]
        if not rates:
            return {}
        below = Counter(r for r in rates if r < default)
        if 2 * sum(below.values()) <= len(rates):
            return {}
        return {"sample_rate": min(below, key=lambda r: (-below[r], r))}

    def _p(self) -> AP:
        """The checked parameters, typed."""
        return cast(AP, self.checked_params())

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
        p = self._p()
        stream = open_stream(path, sample_rate=p.sample_rate, channels=p.channels)
        if stream is not None:  # a long recording: windows read their own blocks
            return stream  # type: ignore[return-value]
        return read_audio(path, sample_rate=p.sample_rate, channels=p.channels)

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
    def _prepare(self, data: Any, p: AP) -> AudioSignal:
        if isinstance(data, Window):
            data = data.data
        if isinstance(data, (StreamSpan, AudioStream)):
            data = data.load()
        signal = select_channels(as_signal(data, p.sample_rate), p.channels)
        signal = check_finite(resample(signal, p.sample_rate))
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
        p = self._p()
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
            if p.trim_silence:
                lo, hi = trim_bounds(samples, p.trim_db)
            clip = samples[:, lo:hi]
            for span in plan_spans(hi - lo, _window_of(hi - lo, p), p.hop_samples, p.pad_mode):
                windows.append(
                    Window(
                        AudioSignal(fill(clip, span, p.pad_mode), sr),
                        index=len(windows),
                        start=(lo + span.start) / sr,
                        stop=(lo + span.stop) / sr,
                        unit="seconds",
                    )
                )
        return windows

    def _segment_stream(self, stream: AudioStream, p: AP) -> list[Window]:
        """The windows of a long file: each reads its own block when converted (see :mod:`.stream`)."""
        if stream.sample_rate != p.sample_rate or stream.channels != p.channels:
            stream = AudioStream(stream.path, stream.file_rate, stream.n_frames, stream.file_channels,
                                 p.sample_rate, p.channels, stream.channel)
        sr = stream.sample_rate
        channels = [stream.one_channel(c) for c in range(stream.n_channels)] if stream.n_channels > 1 else [stream]
        windows: list[Window] = []
        for one in channels:
            lo, hi = stream_trim_bounds(one, p.trim_db) if p.trim_silence else (0, one.n_samples)
            for span in plan_spans(hi - lo, _window_of(hi - lo, p), p.hop_samples, p.pad_mode):
                piece = StreamSpan(one, lo + span.start, lo + span.stop, span.length, p.pad_mode, (lo, hi))
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
        p = self._p()
        return self._render(self._mono(window, p), p)

    def convert_batch(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """Convert many windows (parameters are checked once)."""
        p = self._p()
        return [self._render(self._mono(w, p), p) for w in windows]

    def _mono(self, window: Any, p: AP) -> np.ndarray:
        signal = self._prepare(window, p)
        if signal.n_channels != 1:
            raise InputError(
                f"channels='each' converts one channel at a time (got {signal.n_channels} channels); "
                "split them with segment() or read_records() first"
            )
        return signal.samples[0]

    def _render(self, y: np.ndarray, p: AP) -> np.ndarray:
        check_field_size(y.shape[0], p)
        fields = self._unit_fields(y, p)
        size = p.image_size
        if isinstance(fields, tuple):
            r, g, b = (resize_field(f[::-1], size) for f in fields)
            return fields_to_rgb(r, g, b)
        return field_to_rgb(resize_field(fields[::-1], size), p.cmap)

    def _unit_fields(
        self, y: np.ndarray, p: AP
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
        p = self._p()
        n_rows, n_frames = self._field_shape(self._mono(window, p), p)
        a = check_attribution(attribution, p.image_size or (n_rows, n_frames))
        start, where = _position(window)
        frequencies, unit = self._row_axis(p, n_rows)
        hop = p.hop_length
        return SpectrogramRelevance(
            field_relevance(a, n_rows, n_frames), frame_times(n_frames, hop, p.sample_rate, start),
            np.asarray(frequencies, dtype=np.float64), unit, hop / p.sample_rate, where,
        )

    def parts(self, window: Any) -> SignalParts:
        """The spectrogram's frames; a removed frame is silence (:func:`.removal.delete_frames`).

        Parameters
        ----------
        window : Window, AudioSignal or array-like
            One window (a :class:`Window`'s ``start`` shifts the times).

        Returns
        -------
        SignalParts
            One part per frame of the window's spectrogram (``hop_length``
            samples around the frame's centre); a score per frame becomes a
            :class:`~any2img.relevance.TimeRelevance` over the seconds of
            the recording, every frequency at once.
        """
        p = self._p()
        y = self._mono(window, p)
        _, n_frames = self._field_shape(y, p)
        start, where = _position(window)
        hop, rate = p.hop_length, p.sample_rate
        times = frame_times(n_frames, hop, rate, start)

        def remove(frames: np.ndarray) -> Any:
            return with_data(window, AudioSignal(delete_frames(y, frames, hop)[np.newaxis], rate))

        def relevance(values: np.ndarray) -> TimeRelevance:
            return TimeRelevance(np.asarray(values, dtype=np.float64).reshape(n_frames), times, hop / rate, where)

        return SignalParts(n_frames, "frame", remove, relevance, hop / rate)

    def _field_shape(self, y: np.ndarray, p: AP) -> tuple[int, int]:
        """``(n_rows, n_frames)`` of the field of mono samples ``y``."""
        fields = self._unit_fields(y, p)
        shape = (fields[0] if isinstance(fields, tuple) else fields).shape
        return int(shape[0]), int(shape[1])

    def _row_axis(self, p: AP, n_rows: int) -> tuple[np.ndarray, str]:
        """Centre of each field row and its unit; subclasses say (default: the row index)."""
        return np.arange(n_rows, dtype=np.float64), "row"

    # -- shared scaling -------------------------------------------------------
    @staticmethod
    def _relative_db(db: np.ndarray, p: AudioParams) -> np.ndarray:
        """dB relative to the reference, floored at ``-top_db`` (values above 0 kept)."""
        ref_db = 0.0
        if p.ref == "max":
            peak = float(db.max())
            ref_db = peak if peak > _AMIN_DB + 1e-3 else 0.0  # silence keeps the floor
        return np.maximum(db - np.float32(ref_db), np.float32(-p.top_db))

    @classmethod
    def _db_to_unit(cls, db: np.ndarray, p: AudioParams) -> np.ndarray:
        """Map ``[ref - top_db, ref]`` dB onto [0, 1]."""
        rel = cls._relative_db(db, p)
        return np.clip(rel / np.float32(p.top_db) + np.float32(1.0), 0.0, 1.0)

    @staticmethod
    def _db_to_unit_columns(db: np.ndarray, starts: np.ndarray, counts: np.ndarray, p: AudioParams) -> np.ndarray:
        """:meth:`_db_to_unit` of many windows side by side: window ``i`` is columns ``starts[i]`` + ``counts[i]``.

        Each window keeps its own reference, so every block equals
        ``_db_to_unit`` of that block alone.
        """
        if p.ref == "max":
            peaks = np.maximum.reduceat(db.max(axis=0), starts)
            refs = np.where(peaks.astype(np.float64) > _AMIN_DB + 1e-3, peaks, 0.0).astype(np.float32)  # silence: floor
            rel = np.maximum(db - np.repeat(refs, counts), np.float32(-p.top_db))
        else:
            rel = np.maximum(db, np.float32(-p.top_db))
        return np.clip(rel / np.float32(p.top_db) + np.float32(1.0), 0.0, 1.0)


def _position(window: Any) -> tuple[float, dict[str, Any]]:
    """``(seconds of the window's start in the recording, its describe())``; ``(0, {})`` for bare data."""
    if not isinstance(window, Window):
        return 0.0, {}
    return (float(window.start) if window.unit == "seconds" else 0.0), window.describe()


def _window_of(n_samples: int, p: AudioParams) -> int | None:
    """The window length: ``duration``'s, or for a whole clip longer than LONG_CLIP_SECONDS, that length."""
    if p.window_samples is not None:
        return int(p.window_samples)
    longest = min(int(LONG_CLIP_SECONDS * p.sample_rate), MAX_WINDOW_SAMPLES)
    return longest if n_samples > longest else None


def check_field_size(n_samples: int, p: AudioParams) -> None:
    """Refuse, before computing it, a field of more than MAX_FIELD_CELLS values (one image must fit in memory)."""
    rows, frames = p.field_rows(), 1 + n_samples // p.hop_length
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
