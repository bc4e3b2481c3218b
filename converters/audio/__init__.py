"""Audio converters: the spectrogram family, built on librosa."""
