"""Issue 13's reproductions of non-library exceptions, slow calls and unclear errors, one test each.

Each must now be an :class:`Any2ImgError` with a message in the house shape
(or a clean success), within a second or two.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from any2img import convert_dir
from any2img.errors import Any2ImgError, InputError, ParameterError
from any2img.registry import get_converter
from any2img.validation import check_choice

AUDIO = ["mel", "stft", "mfcc", "chroma", "cqt", "mel_deltas"]
SERIES = ["gasf", "gadf", "mtf", "recurrence", "gaf_mtf", "lineplot"]


def _refused(call, error=Any2ImgError, match=None, tally=None, what=""):
    start = time.perf_counter()
    with pytest.raises(error, match=match):
        call()
    seconds = time.perf_counter() - start
    assert seconds < 5.0, f"{what} took {seconds:.1f} s"
    if tally is not None:
        tally.add("issue 13 reproductions", tried=1, injected="each listed reproduction of defects 2 and 9")


def test_check_choice_with_an_array(tally):
    _refused(lambda: check_choice("channels", np.array(["mono", "first"]), ["mono", "first"]), ParameterError,
             r"'channels' must be one of 'mono', 'first' \(got array", tally)


@pytest.mark.parametrize("bad", [np.array([["a", "b"], ["c", "d"]]), np.array([[object(), 1]], dtype=object),
                                 np.ones((4, 4, 3), dtype=complex), [[1, 2], [3]]])
def test_the_image_converter_with_str_object_complex_and_ragged_arrays(bad, tally):
    _refused(lambda: get_converter("image").convert(bad), InputError, "an image must be", tally)


@pytest.mark.parametrize("name", AUDIO)
@pytest.mark.parametrize("bad, message", [
    ([[0.1, 0.2], [0.3]], "rectangular array of numbers"),
    (np.ones(4000, dtype=complex), "complex numbers"),
    (np.arange(4000).astype("timedelta64[s]"), "time deltas"),
    (np.arange(4000).astype("datetime64[s]"), "dates"),
])
def test_audio_converters_refuse_ragged_complex_and_time_arrays(name, bad, message, tally):
    _refused(lambda: get_converter(name).convert(bad), InputError, message, tally)


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("bad, message", [
    (np.ones(40, dtype=complex), "real numbers .got complex"),
    (np.arange(40).astype("timedelta64[s]"), "real numbers .got time deltas"),
    ([[1, 2], [3]], "array of numbers"),
])
def test_series_converters_refuse_complex_time_and_ragged_arrays(name, bad, message, tally):
    _refused(lambda: get_converter(name).convert(bad), InputError, message, tally)


@pytest.mark.parametrize("name, params, message", [
    ("cqt", {"fmin": 1e-300}, r"'fmin' must be a finite number >= sample_rate / 4096"),
    ("recurrence", {"dimension": 10**6}, r"'dimension' must be an int in \[1, 100\] \(got 1000000\)\."),
    ("recurrence", {"time_delay": 10**9}, r"'time_delay' must be an int in \[1, 1000\]"),
    ("mel", {"duration": 1e20}, r"'duration' must be at most 1048.58 s \(16777216 samples\)"),
    ("mel", {"duration": 1.0, "hop": 1e20}, r"'hop' must be at most"),
    ("mtf", {"n_bins": 10**6}, r"'n_bins' must be an int in \[2, 256\]"),
    ("gadf", {"image_size": 10**6}, r"'image_size' must be at most 2048 pixels a side \(got 1000000\)\."),
    ("stft", {"n_fft": 2**30}, r"'n_fft' must be an int in \[4, 65536\]"),
    ("mel", {"sample_rate": 10**9}, r"'sample_rate' must be an int in \[1, 384000\]"),
    ("trajectory", {"window": "seconds", "size": 1e-6, "overlap": 0.999}, "more than 100000"),
])
def test_size_like_parameters_have_upper_bounds(name, params, message, tally):
    def convert() -> None:  # a value wrong by itself fails at construction, one too big for the input where used
        conv = get_converter(name, **params)
        conv.convert_batch(conv.segment(type(conv).example_signal(0)))

    _refused(convert, Any2ImgError, message, tally, f"{name} {params}")


def test_a_window_field_too_large_for_memory_is_refused_before_it_is_computed(tally):
    conv = get_converter("stft", hop_length=1, duration=30.0)
    _refused(lambda: conv.convert(np.zeros(16000 * 30, np.float32)), InputError,
             "more than 8388608; use a shorter 'duration', a larger 'hop_length'", tally)


def test_a_semicolon_delimited_series_file_names_its_delimiter(tmp_path, tally):
    (tmp_path / "s" / "a").mkdir(parents=True)
    (tmp_path / "s" / "a" / "x.csv").write_text("1;2;3;4\n5;6;7;8\n")
    report = convert_dir("gadf", tmp_path / "s", tmp_path / "out", params={"image_size": 8}, progress=False)
    assert report.images == 0 and report.failures
    assert all("seems semicolon-delimited (';')" in f.reason for f in report.failures)
    tally.add("issue 13 reproductions", tried=1)


def test_an_over_long_csv_field_skips_that_file_only(tmp_path, tally):
    src = tmp_path / "r" / "a"
    src.mkdir(parents=True)
    (src / "x.csv").write_text("1" * 200_000)
    (src / "y.csv").write_text("1,2,3,4,5,6\n")
    report = convert_dir("gadf", tmp_path / "r", tmp_path / "out", params={"image_size": 8}, workers=1,
                         progress=False)
    assert report.images == 1 and len(report.failures) == 1
    assert report.failures[0].source == "a/x.csv" and "longer than" in report.failures[0].reason
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert errors[0]["source"] == "a/x.csv"
    tally.add("issue 13 reproductions", tried=1)


def test_legal_long_file_names_convert(tmp_path, tally):
    src = tmp_path / "s" / "a"
    src.mkdir(parents=True)
    names = ["x" * 251 + ".csv", "é" * 120 + ".csv", "é" * 120 + "-2.csv"]  # 255 bytes each at most
    for name in names:
        (src / name).write_text("1,2,3,4,5\n6,7,8,9,1\n")
    report = convert_dir("gadf", tmp_path / "s", tmp_path / "out", params={"image_size": 8}, progress=False)
    assert report.ok and report.images == 6
    pngs = list((tmp_path / "out" / "a").iterdir())
    assert len({p.name for p in pngs}) == 6 and all(len(p.name.encode()) <= 180 for p in pngs)
    tally.add("issue 13 reproductions", tried=1)
