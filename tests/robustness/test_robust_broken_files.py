"""A generated corpus of broken files through ``convert_dir``: each is skipped with its reason, the rest converts.

Per family, a folder of good files and broken ones (empty, garbage, truncated,
headers that lie, NaN samples, wrong delimiters, over-long fields, missing
columns, decompression bombs, a folder named like a file, a dangling link).
The run must not raise; each broken file appears once in ``errors.jsonl``
with a reason, no PNG is written for it, and every good file converts.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from any2img import convert_dir


def _wav(samples: np.ndarray, rate: int = 8000, subtype: str = "PCM_16") -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def _audio_corpus(rng: np.random.Generator) -> tuple[dict[str, bytes], dict[str, bytes | None]]:
    tone = (0.3 * np.sin(np.arange(4000) / 5.0)).astype(np.float32)
    good = {f"g{i}.wav": _wav(tone * (i + 1) / 4) for i in range(3)}
    wav = _wav(tone)
    nan = tone.copy()
    nan[100] = np.nan
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    no_data = b"RIFF" + struct.pack("<I", 28) + b"WAVE" + b"fmt " + fmt
    bad: dict[str, bytes | None] = {
        "empty.wav": b"", "garbage.wav": rng.bytes(3000), "truncated.wav": wav[: len(wav) // 2],
        "header_only.wav": wav[:44], "no_data_chunk.wav": no_data, "nan.wav": _wav(nan, subtype="FLOAT"),
        "zero_samples.wav": _wav(np.zeros(0, np.float32)), "text.wav": b"this is not audio\n" * 50,
        "garbage.flac": rng.bytes(2000), "garbage.ogg": b"OggS" + rng.bytes(500), "garbage.mp3": rng.bytes(1500),
        "riff_lies.wav": b"RIFF" + struct.pack("<I", 10**9) + b"WAVE" + rng.bytes(100),
        "inf.wav": _wav(np.full(500, np.inf, np.float32), subtype="FLOAT"),
        "folder.wav": None,  # a directory with an audio suffix
    }
    return good, bad


def _series_corpus(rng: np.random.Generator) -> tuple[dict[str, bytes], dict[str, bytes | None]]:
    row = ",".join(f"{v:.3f}" for v in rng.normal(size=20))
    good = {f"g{i}.csv": (row + "\n").encode() for i in range(3)}
    bad: dict[str, bytes | None] = {
        "empty.csv": b"", "header_only.csv": b"a,b,c\n", "semicolons.csv": b"1;2;3;4\n5;6;7;8\n",
        "words.csv": b"one,two,three\nfour,five,six\n", "nan_row.csv": b"1,nan,3,4\n",
        "inf_row.csv": b"1,inf,3,4\n", "one_value.csv": b"5\n", "huge_field.csv": b"1" * 200_000,
        "binary.csv": rng.bytes(2000), "utf16.csv": "1,2,3,4\n".encode("utf-16"),
        "label_only.csv": b"label\ncat\ndog\n", "blank_lines.csv": b"\n\n\n", "nul.csv": b"1,2,\x00,4\n",
        "dashes.csv": b"-,-,-\n", "ragged_label.csv": b"label,a,b\ncat\n", "tabs.tsv": b"x\ty\tz\n",
        "txt_words.txt": b"hello world\n", "folder.csv": None,
        "bad_ts.ts": b"@problemName x\n@data\n1,2,3:\n",
    }
    return good, bad


def _mouse_corpus(rng: np.random.Generator) -> tuple[dict[str, bytes], dict[str, bytes | None]]:
    head = "record timestamp,client timestamp,button,state,x,y\n"
    good = {f"session_g{i}": (head + "".join(f"0,{k / 20},NoButton,Move,{10 * k + i},{5 * k}\n"
                                              for k in range(40))).encode() for i in range(2)}
    bad: dict[str, bytes | None] = {
        "session_empty": b"", "session_header_only": head.encode(), "session_no_y": b"client timestamp,x\n0,1\n",
        "session_words": (head + "0,a,NoButton,Move,b,c\n" * 10).encode(), "session_garbage": rng.bytes(3000),
        "session_one_event": (head + "0,0.1,NoButton,Move,1,1\n").encode(),
        "session_huge_field": (head + "0," + "9" * 200_000 + ",NoButton,Move,1,1\n").encode(),
        "session_nan": (head + "".join(f"0,nan,NoButton,Move,{k},{k}\n" for k in range(40))).encode(),
        "session_semicolons": b"client timestamp;x;y\n0;1;2\n0.1;2;3\n", "session_folder": None,
    }
    return good, bad


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((*size, 3), 120, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _image_corpus(rng: np.random.Generator) -> tuple[dict[str, bytes], dict[str, bytes | None]]:
    good = {f"g{i}.png": _png((12 + i, 10)) for i in range(3)}
    png = _png((32, 32))
    ihdr = bytearray(_png((1, 1)))
    ihdr[16:24] = struct.pack(">II", 40_000, 40_000)  # a header claiming 1.6 G pixels
    bad: dict[str, bytes | None] = {
        "empty.png": b"", "garbage.png": rng.bytes(2000), "truncated.png": png[: len(png) // 2],
        "text.jpg": b"not a jpeg\n" * 40, "bomb.png": bytes(ihdr), "garbage.bmp": b"BM" + rng.bytes(200),
        "folder.png": None,
    }
    return good, bad


CORPORA: dict[str, tuple[str, dict[str, object], Callable[..., tuple[dict[str, bytes], dict[str, bytes | None]]]]] = {
    "audio": ("mel", {"image_size": 16}, _audio_corpus),
    "timeseries": ("gadf", {"image_size": 16}, _series_corpus),
    "mouse": ("trajectory", {"image_size": 16, "size": 20}, _mouse_corpus),
    "image": ("image", {"image_size": 16}, _image_corpus),
}


@pytest.mark.parametrize("family", list(CORPORA))
def test_broken_files_are_skipped_with_a_reason_and_the_rest_converts(family, tmp_path, tally):
    name, params, make = CORPORA[family]
    good, bad = make(np.random.default_rng(0))
    src = tmp_path / "src" / "c"
    src.mkdir(parents=True)
    for fname, data in {**good, **bad}.items():
        if data is None:
            (src / fname).mkdir()
            (src / fname / "inner.txt").write_text("x")
        else:
            (src / fname).write_bytes(data)
    dangling = src / ("dangling" + (Path(next(iter(good))).suffix or ""))
    dangling.symlink_to(tmp_path / "nowhere")

    report = convert_dir(name, tmp_path / "src", tmp_path / "out", params=params, workers=1, progress=False)
    failed = {f.source.split("/", 1)[1] for f in report.failures}
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    pngs = {p.name for p in (tmp_path / "out").rglob("*.png")}
    expected = {f for f, d in bad.items() if d is not None}
    assert failed - {f"{f}/inner.txt" for f, d in bad.items() if d is None} == expected, report.failures
    assert all(f.reason.strip() and "Traceback" not in f.reason for f in report.failures)
    assert len(errors) == len(report.failures)
    assert all(any(Path(g).stem in p for p in pngs) for g in good)  # every good file converted
    assert not any(Path(f).stem in p for f in expected for p in pngs)  # no picture of a broken one
    tally.add("broken files through convert_dir", tried=len(expected) + 2, failures=0,
              injected="empty, garbage, truncated, lying headers, NaN/inf samples, wrong delimiters, 200k-char "
                       "fields, missing columns, a 1.6 G-pixel PNG header, folders and dangling links named "
                       "like sources",
              note=f"{family}: {len(expected)} broken files each reported once, a folder and a dangling link "
                   f"named like sources passed over, {len(good)} good files converted")
