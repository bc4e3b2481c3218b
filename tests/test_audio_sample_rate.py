"""Audio converters take ``sample_rate`` from the sources when a batch conversion is not given one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import any2img
from any2img.registry import get_converter_class

SHARED_FSDD = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fsdd"


def _wav(path: Path, rate: int, seconds: float = 0.25) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate)
    return path


def _manifest_params(folder: Path) -> dict:
    return json.loads((folder / "manifest.jsonl").read_text().splitlines()[0])["params"]


@pytest.mark.parametrize(("rates", "expected"), [
    ([8000] * 4, {"sample_rate": 8000}),
    ([8000, 8000, 8000, 2000], {"sample_rate": 8000}),  # the most common rate: one odd file moves nothing
    ([8000, 11025, 11025, 8000], {"sample_rate": 8000}),  # a tie goes to the lower rate
    ([16000] * 3, {}),  # the default already
    ([44100, 48000, 44100], {}),  # above the default: resampled down to it, as before
    ([8000, 16000, 16000], {}),  # most are at the default
    ([8000] * 4 + [44100] * 3 + [48000] * 3, {}),  # most are above it: a hi-fi corpus stays at 16 kHz
    ([8000] * 3 + [11025] * 2 + [44100] * 4, {"sample_rate": 8000}),  # 5 of 9 below: the most common of those
])
def test_the_most_common_rate_below_the_default_is_taken(tmp_path, rates, expected):
    sources = [_wav(tmp_path / f"{i}.wav", r) for i, r in enumerate(rates)]
    for name in ("mel", "stft", "mfcc", "chroma", "mel_deltas", "cqt"):
        assert get_converter_class(name).params_from_sources(sources) == expected, name


def test_unreadable_headers_are_passed_over_and_no_audio_means_no_change(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEnot audio at all")
    cls = get_converter_class("mel")
    assert cls.params_from_sources([broken]) == {}
    assert cls.params_from_sources([]) == {}
    assert cls.params_from_sources([broken, _wav(tmp_path / "ok.wav", 8000)]) == {"sample_rate": 8000}
    assert get_converter_class("gasf").params_from_sources([tmp_path / "ok.wav"]) == {}  # other families: none


def test_convert_dir_records_the_rate_it_took_and_says_so(tmp_path):
    for label in ("a", "b"):
        for i in range(2):
            _wav(tmp_path / "src" / label / f"{i}.wav", 8000)
    report = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", progress=False)
    assert report.ok and report.from_sources == {"sample_rate": 8000}
    assert "sample_rate=8000 taken from the sources" in report.summary()
    assert _manifest_params(tmp_path / "out")["sample_rate"] == 8000
    model_free = any2img.get_converter("mel", **_manifest_params(tmp_path / "out"))  # the picture repeats
    assert model_free.convert(model_free.read(tmp_path / "src" / "a" / "0.wav")).shape[0] == 128

    given = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "given", params={"sample_rate": 16000},
                                progress=False)
    assert given.from_sources == {} and _manifest_params(tmp_path / "given")["sample_rate"] == 16000
    configured = any2img.convert_dir(any2img.get_converter("mel"), tmp_path / "src", tmp_path / "object",
                                     progress=False)  # a converter object is used as it is
    assert configured.from_sources == {} and _manifest_params(tmp_path / "object")["sample_rate"] == 16000


def test_a_given_parameter_that_needs_the_default_rate_keeps_it(tmp_path):
    _wav(tmp_path / "src" / "a" / "0.wav", 8000)
    report = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", params={"fmax": 6000.0},
                                 progress=False)  # 6 kHz is above 8 kHz recordings' Nyquist frequency
    assert report.ok and report.from_sources == {}
    assert _manifest_params(tmp_path / "out")["sample_rate"] == 16000


def test_resume_keeps_the_rate_and_converts_nothing_again(tmp_path):
    for i in range(3):
        _wav(tmp_path / "src" / "a" / f"{i}.wav", 8000)
    any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", progress=False)
    again = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", progress=False)
    assert again.converted_sources == 0 and again.skipped_sources == 3
    assert again.from_sources == {"sample_rate": 8000}
    for i in range(4):  # now most sources are at 16 kHz: the destination keeps the rate it was drawn at
        _wav(tmp_path / "src" / "a" / f"new{i}.wav", 16000)
    grown = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", progress=False)
    assert (grown.converted_sources, grown.skipped_sources) == (4, 3)
    assert grown.from_sources == {"sample_rate": 8000} and _manifest_params(tmp_path / "out")["sample_rate"] == 8000
    fresh = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", resume=False, progress=False)
    assert fresh.from_sources == {} and _manifest_params(tmp_path / "out")["sample_rate"] == 16000  # probed again


def test_a_folder_drawn_at_16_khz_stays_at_16_khz_when_resumed(tmp_path):
    for i in range(2):
        _wav(tmp_path / "src" / "a" / f"{i}.wav", 8000)
    any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", params={"sample_rate": 16000}, progress=False)
    again = any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", progress=False)  # no flag now
    assert again.from_sources == {} and (again.converted_sources, again.skipped_sources) == (0, 2)
    assert _manifest_params(tmp_path / "out")["sample_rate"] == 16000


def test_cli_convert_says_which_rate_it_took(tmp_path, capsys):
    from any2img.cli import main

    _wav(tmp_path / "src" / "a" / "0.wav", 8000)
    assert main(["convert", "mel", str(tmp_path / "src"), str(tmp_path / "out"), "--quiet"]) == 0
    assert "sample_rate=8000 taken from the sources" in capsys.readouterr().out


@pytest.mark.shared_data
def test_fsdd_gets_the_rate_that_the_benchmark_passes():
    if not SHARED_FSDD.is_dir():
        pytest.skip(f"{SHARED_FSDD} is absent (../shared/datasets not beside the checkout)")
    from any2img.bench.datasets import DATASETS

    sources = sorted(SHARED_FSDD.rglob("*.wav"))
    assert sources, f"no WAV under {SHARED_FSDD}"
    assert get_converter_class("mel").params_from_sources(sources) == DATASETS["FSDD"].converter_params
