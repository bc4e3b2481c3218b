"""Audio converters: the spectrogram family, built on librosa.

* :mod:`.spectrograms` — the registered converters ``mel``, ``stft``, ``mfcc``,
  ``cqt``, ``chroma``, ``mel_deltas``;
* :mod:`.base` — :class:`~.base.AudioConverter`, the parameters they share;
* :mod:`.signal` — :class:`~.signal.AudioSignal` and channel/resampling helpers;
* :mod:`.io` — reading WAV/FLAC/OGG/AIFF/MP3 files, with clear errors;
* :mod:`.windows` — cutting clips into windows (pad, loop, crop; hops; trimming);
* :mod:`.features` — full-scale-normalised STFT, mel, chroma, CQT, DCT, deltas.

Nothing is imported here: the registry loads :mod:`.spectrograms` through its
entry points when an audio converter is asked for.
"""
