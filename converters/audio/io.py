"""Reading audio files into :class:`AudioSignal` objects.

WAV, FLAC, OGG/Vorbis, AIFF and (where libsndfile >= 1.1 has it) MP3 are read
with soundfile; an MP3 that soundfile cannot open falls back to librosa's
audioread path when a decoder is installed. Every failure is an
:class:`~any2img.errors.InputError` naming the file and what is wrong: an
unsupported suffix, an empty (0-byte) file, a corrupt or truncated file, a file
with no samples, NaN or infinite samples.

Silence is *not* an error: the converters scale decibels against a fixed full
scale reference, so a silent clip has a well-defined image (the floor).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from any2img.errors import InputError

from .signal import AudioSignal, check_finite, resample, select_channels
from .stream import LONG_CLIP_SECONDS, AudioStream

__all__ = ["AUDIO_EXTENSIONS", "native_rate", "open_stream", "read_audio"]

#: File suffixes the audio converters read.
AUDIO_EXTENSIONS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave these in WAV headers


def read_audio(path: str | os.PathLike[str], *, sample_rate: int | None = None, channels: str = "mono") -> AudioSignal:
    """Read an audio file.

    Parameters
    ----------
    path : path
        A file with one of :data:`AUDIO_EXTENSIONS`.
    sample_rate : int, optional
        Resample to this rate; ``None`` keeps the file's own rate.
    channels : {"mono", "first", "each"}, default="mono"
        Mix the channels down, keep the first, or keep them all.

    Returns
    -------
    AudioSignal
        Float32 samples in [-1, 1], shape ``(n_channels, n_samples)``.

    Raises
    ------
    InputError
        The message starts with the path and says what is wrong.
    """
    p = Path(path)
    suffix = _check_file(p)
    samples, rate = _decode(p, suffix)
    if samples.shape[1] == 0:
        raise InputError("the file holds no audio (0 samples)", path=p)
    signal = check_finite(AudioSignal(samples, rate), path=p)
    signal = select_channels(signal, channels)
    if sample_rate is not None:
        signal = resample(signal, sample_rate)
    return signal


def native_rate(path: str | os.PathLike[str]) -> int | None:
    """The sample rate a file's header states, or None where soundfile cannot read one (nothing decoded)."""
    import soundfile as sf

    try:
        rate = int(sf.info(str(path)).samplerate)
    except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, OSError, TypeError):
        return None
    return rate if rate > 0 else None


def open_stream(path: str | os.PathLike[str], *, sample_rate: int, channels: str = "mono") -> AudioStream | None:
    """Return an :class:`~.stream.AudioStream` for a file longer than :data:`~.stream.LONG_CLIP_SECONDS`.

    ``None`` for a shorter file, or one soundfile cannot seek in (then
    :func:`read_audio` decodes it whole). The file is checked as
    :func:`read_audio` checks it (suffix, size, WAV length); samples are
    checked as each window is read.
    """
    import soundfile as sf

    p = Path(path)
    _check_file(p)
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, OSError):
        return None  # read_audio says what is wrong, or decodes it another way (MP3)
    if not (info.frames > 0 and info.samplerate > 0 and info.frames > LONG_CLIP_SECONDS * info.samplerate):
        return None
    try:
        with sf.SoundFile(str(p)) as fh:
            if not fh.seekable():
                return None
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError):
        return None
    return AudioStream(p, int(info.samplerate), int(info.frames), int(info.channels), int(sample_rate), channels)


def _check_file(p: Path) -> str:
    """Check what can be checked without decoding; return the lower-case suffix."""
    suffix = p.suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        raise InputError(
            f"unsupported audio file type {suffix or '(no suffix)'!r}; expected one of {', '.join(AUDIO_EXTENSIONS)}",
            path=p,
        )
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", path=p) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=p) from exc
    if not p.is_file():
        raise InputError("not a regular file", path=p)
    if size == 0:
        raise InputError("the file is empty (0 bytes)", path=p)
    if suffix in (".wav", ".wave"):
        _check_wav_length(p, size)
    return suffix


def _decode(path: Path, suffix: str) -> tuple[np.ndarray, int]:
    """Return ``(samples (channels, n), rate)``; raise InputError on failure."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as fh:
            declared, rate = fh.frames, fh.samplerate
            data = fh.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, OSError) as exc:
        if suffix == ".mp3":
            return _decode_audioread(path, exc)
        raise InputError(f"cannot decode the audio; the file is corrupt or not {suffix[1:].upper()} ({_why(exc)})",
                         path=path) from exc
    got = data.shape[0]
    # A truncated MP3 still reports the frame count of its header; allow the
    # decoder's padding (one MPEG frame) but not a missing tail.
    slack = 1152 + declared // 100 if suffix == ".mp3" else 0
    if declared > 0 and got < declared - slack:
        raise InputError(
            f"the file is truncated: its header declares {declared} samples per channel but only {got} decode",
            path=path,
        )
    return np.ascontiguousarray(data.T), int(rate)


def _decode_audioread(path: Path, first: Exception) -> tuple[np.ndarray, int]:
    import warnings

    try:
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "PySoundFile failed. Trying audioread instead." and deprecations
            data, rate = librosa.load(str(path), sr=None, mono=False, dtype=np.float32)
    except Exception as exc:  # audioread raises its own families, or NoBackendError
        other = "no decoder backend (ffmpeg, GStreamer) is installed" if type(exc).__name__ == "NoBackendError" else (
            f"{type(exc).__name__}: {exc}"
        )
        raise InputError(
            f"cannot decode the audio; the file is corrupt or not MP3 ({_why(first)}; audioread: {other})", path=path
        ) from exc
    return np.atleast_2d(data).astype(np.float32, copy=False), int(rate)


def _why(exc: Exception) -> str:
    text = str(exc).strip()
    # libsndfile messages repeat the path: "Error opening '/x/y.wav': Format not recognised."
    if text.startswith("Error opening") and "': " in text:
        text = text.split("': ", 1)[1]
    if text.startswith("File does not exist or is not a regular file"):
        text = "libsndfile cannot parse it"  # what it says of an MP3 it cannot sync to; the file does exist
    return text.rstrip(".") or type(exc).__name__


def _check_wav_length(path: Path, size: int) -> None:
    """Refuse a RIFF/WAVE file whose data chunk is cut short.

    libsndfile silently reads what is there, so a WAV truncated in transit
    would convert to a shorter clip without this check.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not a plain RIFF WAVE (RF64, RIFX, or garbage): libsndfile decides
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                available = size - pos - 8
                if chunk_size not in _UNKNOWN_SIZES and available < chunk_size:
                    raise InputError(
                        f"the file is truncated: its WAV header declares {chunk_size} bytes of audio "
                        f"but only {available} are present",
                        path=path,
                    )
                return
            pos += 8 + chunk_size + (chunk_size & 1)
    raise InputError("the file is corrupt: its WAV header has no 'data' chunk", path=path)
