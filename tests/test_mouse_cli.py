"""The mouse converters end to end: the CLI on a slice of Balabit, and the data set loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from any2img.cli import main
from any2img.datasets import balabit
from any2img.errors import InputError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
BALABIT = SHARED / "balabit" / "training_files"
needs_balabit = pytest.mark.skipif(
    not BALABIT.is_dir(), reason=f"the shared Balabit copy is absent ({BALABIT}); get it from {balabit.URL}"
)


def _slice(dst: Path, users: list[str], sessions: int, rows: int) -> Path:
    """Copy the first ``rows`` events of a few sessions of a few users."""
    for user in users:
        for src in sorted((BALABIT / user).iterdir())[:sessions]:
            lines = src.read_text().splitlines(keepends=True)[: rows + 1]
            out = dst / user / src.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(lines))
    return dst


@pytest.mark.shared_data
@needs_balabit
def test_cli_converts_a_slice_of_balabit(tmp_path, capsys):
    src = _slice(tmp_path / "training_files", ["user7", "user12"], sessions=2, rows=650)
    dst = tmp_path / "images"
    code = main(["convert", "trajectory", str(src), str(dst), "--param", "window=events", "--param", "size=300",
                 "--param", "image_size=64", "--workers", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "8 images from 4 sources written" in capsys.readouterr().out
    rows = [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]
    assert sorted({r["label"] for r in rows}) == ["user12", "user7"]
    by_group: dict[str, set[str]] = {}
    for r in rows:
        by_group.setdefault(r["group"], set()).add(r["source"])
        assert r["window"]["unit"] == "events" and r["window"]["stop"] - r["window"]["start"] == 300
        assert r["meta"]["events"] >= 600 and (dst / r["image"]).is_file()
    assert len(by_group) == 4 and all(len(sources) == 1 for sources in by_group.values())  # group = session
    assert all(r["image"].startswith(r["label"] + "/") for r in rows)


@pytest.mark.shared_data
@needs_balabit
def test_cli_actions_windows_and_kinematics(tmp_path, capsys):
    src = _slice(tmp_path / "training_files", ["user9"], sessions=1, rows=800)
    dst = tmp_path / "kin"
    code = main(["convert", "mouse_kinematics", str(src), str(dst), "-p", "window=actions", "-p", "size=5",
                 "-p", "image_size=32", "--workers", "1", "-q"])
    assert code == 0
    rows = [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) >= 3 and all(r["label"] == "user9" for r in rows)
    starts = [r["window"]["start"] for r in rows]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_cli_reports_a_bad_session_and_converts_the_rest(tmp_path, capsys):
    good = "record timestamp,client timestamp,button,state,x,y\n" + "".join(
        f"0,{i / 20},NoButton,Move,{10 * i},{5 * i}\n" for i in range(40))
    (tmp_path / "src" / "user1").mkdir(parents=True)
    (tmp_path / "src" / "user1" / "session_a").write_text(good)
    (tmp_path / "src" / "user1" / "session_b").write_text("client timestamp,x\n0,1\n")
    code = main(["convert", "trajectory", str(tmp_path / "src"), str(tmp_path / "out"), "-p", "size=20",
                 "-p", "image_size=32", "--workers", "1", "-q"])
    captured = capsys.readouterr()
    assert code == 1 and "2 images from 2 sources written" in captured.out
    assert "user1/session_b: missing y column 'y'" in captured.err


# -- the data set loader ----------------------------------------------------
def _fake_tree(root: Path) -> Path:
    for user, sessions in {"user12": ["session_2", "session_1"], "user7": ["session_9", "session_3", "session_5"],
                           "user9": ["session_4"]}.items():
        for name in sessions:
            (root / user).mkdir(parents=True, exist_ok=True)
            (root / user / name).write_text("x")
    (root / "README").write_text("not a user")
    return root


def test_loader_lists_users_and_holds_out_each_last_session(tmp_path, monkeypatch):
    root = _fake_tree(tmp_path / "Mouse-Dynamics-Challenge" / "training_files")
    monkeypatch.setenv(balabit.ENV_VAR, str(root.parent))  # the repository root works too
    assert balabit.balabit_root() == root
    assert balabit.list_users() == ["user7", "user9", "user12"]
    assert [s.name for s in balabit.list_sessions(user="user7")] == ["session_3", "session_5", "session_9"]
    split = balabit.last_session_split(root)
    assert [(s.user, s.name) for s in split["test"]] == [("user7", "session_9"), ("user9", "session_4"),
                                                         ("user12", "session_2")]
    assert [(s.user, s.name) for s in split["train"]] == [("user7", "session_3"), ("user7", "session_5"),
                                                          ("user12", "session_1")]


def test_loader_says_where_to_get_the_data(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"github.com/balabit/Mouse-Dynamics-Challenge.*ANY2IMG_BALABIT"):
        balabit.balabit_root(tmp_path / "nowhere")
    monkeypatch.delenv(balabit.ENV_VAR, raising=False)  # no default location: the package guesses no path
    with pytest.raises(InputError, match=r"no Balabit folder given.*ANY2IMG_BALABIT"):
        balabit.balabit_root()


@pytest.mark.shared_data
@needs_balabit
def test_loader_on_the_shared_copy(monkeypatch):
    monkeypatch.setenv(balabit.ENV_VAR, str(BALABIT))  # the tests know where shared/ is; the package does not
    assert balabit.balabit_root().resolve() == BALABIT.resolve()  # shared/ may be a link
    assert len(balabit.list_users()) == 10
    split = balabit.last_session_split()
    assert len(split["train"]) == 55 and len(split["test"]) == 10
    assert {s.user for s in split["test"]} == set(balabit.list_users())


@pytest.mark.shared_data
@needs_balabit
def test_cli_mouse_histogram_converts_trains_predicts_and_explains_raw_sessions(tmp_path, capsys):
    src = _slice(tmp_path / "training_files", ["user7", "user12"], sessions=3, rows=620)
    dst, model = tmp_path / "hist", tmp_path / "model"
    code = main(["convert", "mouse_histogram", str(src), str(dst), "-p", "size=100", "-p", "image_size=32",
                 "--workers", "1", "-q"])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 36 and all(r["converter"] == "mouse_histogram" and r["params"]["bins"] == "auto" for r in rows)
    code = main(["train", str(dst), "--out", str(model), "--epochs", "2", "--seed", "0", "-q", "--backbone",
                 "resnet10t", "--no-pretrained", "--image-size", "32", "--batch-size", "8", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    training = json.loads((model / "model.json").read_text())["training"]
    assert training["augment"] == "signal" and training["tta"] == 4  # histograms train on jittered events by default
    session = sorted((src / "user7").iterdir())[0]
    assert main(["predict", str(model), str(session), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.splitlines()[0])
    assert answer["source"] == str(session) and answer["label"] in ("user7", "user12")
    assert answer["n_windows"] == 6
    assert main(["explain", str(model), str(session), "--out", str(tmp_path / "why"), "--device", "cpu",
                 "--windows", "1"]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "why" / f"{session.name}.json").read_text())
    relevance = summary["windows"][0]["relevance"]
    assert relevance["kind"] == "events" and relevance["n_events"] == 100 and 0.0 < relevance["on_path"] <= 1.0
