"""Long recordings, read window by window so memory stays bounded whatever the length.

A file longer than :data:`LONG_CLIP_SECONDS` is not decoded whole: reading it
gives an :class:`AudioStream` (its length, rates and channel rule), and each
window reads only its own samples from the file (``soundfile`` seeks and
reads that block), resampled with a margin of context on each side so the
result matches resampling the whole file. Peak memory is then one window
plus its picture, not the recording.

The same limit gives a whole-clip converter (``duration=None``) a default
window: a clip longer than :data:`LONG_CLIP_SECONDS` is cut into windows of
that length, so no single window (and no spectrogram) grows with the
recording.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from any2img.errors import InputError

from .signal import AudioSignal, check_finite

__all__ = ["LONG_CLIP_SECONDS", "MAX_WINDOW_SAMPLES", "AudioStream", "StreamSpan", "stream_trim_bounds"]

#: Clips longer than this (seconds) are streamed from their file, and cut into windows of this length when
#: ``duration`` is None.
LONG_CLIP_SECONDS = 60.0
#: The most samples one window may hold (2**24: 17.5 minutes at 16 kHz, 64 MB as float32).
MAX_WINDOW_SAMPLES = 2**24

_MARGIN_SECONDS = 0.05  # context read on each side of a resampled block (soxr's HQ filter is a few ms long)


@dataclass(frozen=True, eq=False)
class AudioStream:
    """A long audio file, read one block at a time.

    Parameters
    ----------
    path : Path
        The file (soundfile must be able to seek in it).
    file_rate, n_frames, file_channels : int
        What the file holds: its sample rate, samples per channel, channels.
    sample_rate : int
        The rate windows are read at (resampled with soxr when it differs).
    channels : {"mono", "first", "each"}
        The channel rule; with ``"each"``, ``channel`` picks one channel.
    channel : int or None
        The channel of one record of an ``"each"`` read.
    """

    path: Path
    file_rate: int
    n_frames: int
    file_channels: int
    sample_rate: int
    channels: str = "mono"
    channel: int | None = None

    @property
    def n_channels(self) -> int:
        """Channels a read gives."""
        return self.file_channels if self.channels == "each" and self.channel is None else 1

    @property
    def n_samples(self) -> int:
        """Samples per channel at ``sample_rate``."""
        if self.file_rate == self.sample_rate:
            return self.n_frames
        return int(math.ceil(self.n_frames * self.sample_rate / self.file_rate))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_frames / self.file_rate

    def one_channel(self, c: int) -> AudioStream:
        """The stream of channel ``c`` alone."""
        return AudioStream(self.path, self.file_rate, self.n_frames, self.file_channels, self.sample_rate,
                           self.channels, c)

    def read(self, start: int, stop: int) -> AudioSignal:
        """Return samples ``[start, stop)`` at ``sample_rate``, the channel rule applied, checked finite."""
        start, stop = max(0, int(start)), min(self.n_samples, int(stop))
        if stop <= start:
            return AudioSignal(np.zeros((self.n_channels, 0), dtype=np.float32), self.sample_rate)
        if self.file_rate == self.sample_rate:
            data = self._frames(start, stop)
        else:
            data = self._resampled(start, stop)
        return check_finite(AudioSignal(self._select(data), self.sample_rate), path=self.path)

    def load(self) -> AudioSignal:
        """The whole stream in memory (for callers that need it whole, e.g. signal augmentation)."""
        return self.read(0, self.n_samples)

    def _frames(self, a: int, b: int) -> np.ndarray:
        """File frames ``[a, b)`` as ``(file_channels, b - a)`` float32."""
        import soundfile as sf

        try:
            with sf.SoundFile(str(self.path)) as fh:
                fh.seek(a)
                data = fh.read(b - a, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, OSError) as exc:
            raise InputError(f"cannot read samples {a} to {b} of the audio ({exc})", path=self.path) from exc
        if data.shape[0] < b - a:
            raise InputError(f"the file is truncated: samples {a + data.shape[0]} to {b} do not decode",
                             path=self.path)
        return np.ascontiguousarray(data.T)

    def _resampled(self, start: int, stop: int) -> np.ndarray:
        import soxr

        fr, sr = self.file_rate, self.sample_rate
        step = fr // math.gcd(fr, sr)  # file frames per whole number of output samples
        margin = int(math.ceil(_MARGIN_SECONDS * fr))
        a = max(0, ((start * fr // sr - margin) // step) * step)
        b = min(self.n_frames, int(math.ceil(stop * fr / sr)) + margin)
        frames = self._frames(a, b)
        offset = a * sr // fr  # output sample at file frame a (exact: a is a multiple of step)
        out = np.zeros((frames.shape[0], stop - start), dtype=np.float32)
        for c in range(frames.shape[0]):
            y = soxr.resample(frames[c], fr, sr, quality="soxr_hq")[start - offset : stop - offset]
            out[c, : y.shape[0]] = y
        return out

    def _select(self, data: np.ndarray) -> np.ndarray:
        if self.channel is not None:
            return data[self.channel : self.channel + 1]
        if data.shape[0] == 1 or self.channels == "each":
            return data
        if self.channels == "first":
            return data[:1]
        return data.mean(axis=0, keepdims=True, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class StreamSpan:
    """One window of a stream, read when it is converted: real audio ``[start, stop)``, ``length`` samples."""

    stream: AudioStream
    start: int
    stop: int
    length: int
    pad_mode: str = "pad"
    clip: tuple[int, int] = (0, 0)  # the (trimmed) clip the window lies in, for "loop"

    def load(self) -> AudioSignal:
        """The window's samples, filled past the clip's end like :func:`.windows.fill`."""
        piece = self.stream.read(self.start, self.stop).samples
        missing = self.length - piece.shape[1]
        if missing > 0:
            if self.pad_mode == "loop":
                lo, hi = self.clip
                n = hi - lo
                head = self.stream.read(lo, lo + min(n, missing)).samples
                reps = -(-missing // max(head.shape[1], 1))
                piece = np.concatenate([piece, np.tile(head, (1, reps))[:, :missing]], axis=1)
            else:
                piece = np.pad(piece, ((0, 0), (0, missing)))
        return AudioSignal(piece, self.stream.sample_rate)


def stream_trim_bounds(stream: AudioStream, top_db: float, frame_length: int = 2048,
                       hop_length: int = 512, block_frames: int = 2048) -> tuple[int, int]:
    """:func:`.windows.trim_bounds` of a stream, computed block by block.

    The same rule as :func:`librosa.effects.trim`: frames (centred, zero
    padded at the ends) whose mean power lies more than ``top_db`` below the
    loudest frame are silence; a clip that is all silence keeps its length.
    """
    n = stream.n_samples
    n_frames = 1 + n // hop_length
    half = frame_length // 2
    power = np.empty(n_frames, dtype=np.float64)
    for f0 in range(0, n_frames, block_frames):
        f1 = min(n_frames, f0 + block_frames)
        a, b = f0 * hop_length - half, (f1 - 1) * hop_length + half
        y = stream.read(a, b).samples.mean(axis=0)
        y = np.pad(y, (max(0, -a), (b - a) - y.shape[0] - max(0, -a)))
        frames = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length][: f1 - f0]
        power[f0:f1] = np.mean(frames.astype(np.float64) ** 2, axis=1)
    peak = power.max()
    if peak <= 0:
        return 0, n
    db = 10.0 * np.log10(np.maximum(power, 1e-10)) - 10.0 * np.log10(max(peak, 1e-10))
    loud = np.flatnonzero(db > -top_db)
    if loud.size == 0:
        return 0, n
    start, stop = int(loud[0] * hop_length), min(n, int((loud[-1] + 1) * hop_length))
    return (start, stop) if stop > start else (0, n)
