"""The command line through ``main([...])``: help, list, convert, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from any2img.cli import COMMANDS, build_parser, main
from any2img.cli.params import parse_params
from any2img.errors import ParameterError


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return list(sub.choices)


def test_every_designed_command_exists():
    assert _commands() == list(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: any2img" in capsys.readouterr().out


def test_list_shows_converters_with_parameters(capsys):
    assert main(["list", "--kind", "image"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("image") and "image_size = None" in out
    assert main(["list", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {"gadf", "mel", "trajectory", "image"} <= {e["name"] for e in entries}


def test_convert_end_to_end_and_rerun(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 255, (8, 10, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "src" / label / f"{i}.png")
    (tmp_path / "src" / "b" / "broken.png").write_bytes(b"not a png")
    argv = ["convert", "image", str(tmp_path / "src"), str(tmp_path / "out"), "--param", "image_size=[4, 6]",
            "--workers", "1", "--quiet"]
    assert main(argv) == 1  # one file failed
    captured = capsys.readouterr()
    assert "4 images from 5 sources written, 0 sources already done, 1 failed" in captured.out
    assert "skipped b/broken.png: not a readable image" in captured.err
    assert Image.open(tmp_path / "out" / "a" / "a__0.png").size == (6, 4)
    (tmp_path / "src" / "b" / "broken.png").unlink()
    assert main(argv) == 0
    assert "0 images from 0 sources written, 4 sources already done, 0 failed" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["convert", "no_such_converter", str(tmp_path), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("any2img convert: error: unknown converter 'no_such_converter'; available converters:")
    assert "\n" not in err
    assert main(["convert", "image", str(tmp_path), str(tmp_path / "o"), "--param", "image_size=0"]) == 2
    assert "'image_size' must be an int >= 1" in capsys.readouterr().err


def test_parse_params():
    assert parse_params(["image_size=128", "cmap=viridis", "fmax=none", "flag=true", "size=[2, 3]"]) == {
        "image_size": 128, "cmap": "viridis", "fmax": None, "flag": True, "size": [2, 3]}
    with pytest.raises(ParameterError, match="'--param' must look like key=value"):
        parse_params(["image_size"])
