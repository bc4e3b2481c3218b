"""Grad-CAM and occlusion on timm models, Predictor.explain, and `any2img explain` / `evaluate` end to end."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
import soundfile as sf
import timm
import torch

import any2img
from any2img import convert_dir
from any2img.cli import main
from any2img.data import items_from_manifest, split_items
from any2img.explain import half_mass
from any2img.learn import Learner
from any2img.learn.attribution import grad_cam, occlusion, resolve_layer, upsample
from any2img.learn.callbacks import OverfittingWarning
from any2img.relevance import SeriesRelevance, SpectrogramRelevance


@pytest.fixture
def one_thread():
    """Small models on shared cores: one torch thread is several times faster than many."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _squares(rng: np.random.Generator, n: int, side: int = 32) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Noise; the first half of the images carries a bright 8 px square in a random quadrant (class 1)."""
    x = rng.normal(0.0, 0.3, (n, 3, side, side)).astype(np.float32)
    y = np.zeros(n, dtype=np.int64)
    quadrant = np.full(n, -1)
    half = side // 2
    for i in range(n // 2):
        q = int(rng.integers(4))
        top, left = (q // 2) * half + int(rng.integers(2, 6)), (q % 2) * half + int(rng.integers(2, 6))
        x[i, :, top : top + 8, left : left + 8] += 2.0
        y[i], quadrant[i] = 1, q
    return torch.from_numpy(x), torch.from_numpy(y), quadrant


def _quadrant_mass(maps: np.ndarray) -> np.ndarray:
    h = maps.shape[-1] // 2
    cells = [maps[:, r * h : (r + 1) * h, c * h : (c + 1) * h].sum(axis=(1, 2)) for r in (0, 1) for c in (0, 1)]
    return np.stack(cells, axis=1)


def test_grad_cam_and_occlusion_find_the_square_a_tiny_timm_model_learned(one_thread):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=2, output_stride=16)  # 2 x 2 maps at 32 px
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    model.train()
    for _ in range(25):
        x, y, _ = _squares(rng, 16)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, y, quadrant = _squares(rng, 16)
    with torch.no_grad():
        assert (model(x).argmax(1) == y).float().mean() >= 0.9
    squares = x[:8]
    cams = grad_cam(model, squares, target=1)
    assert cams.shape == (8, 32, 32) and cams.min() >= 0.0 and cams.max() == pytest.approx(1.0)
    assert (_quadrant_mass(cams).argmax(axis=1) == quadrant[:8]).all()  # the square's quadrant holds the most
    occ = occlusion(model, squares, target=1, patch=8, stride=4)
    assert (_quadrant_mass(occ).argmax(axis=1) == quadrant[:8]).all()


@pytest.mark.parametrize("name", ["test_vit", "test_convnext"])
def test_grad_cam_runs_on_token_and_other_convolutional_backbones(name, one_thread):
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, num_classes=3).eval()
    size = model.pretrained_cfg.get("input_size", (3, 32, 32))[-1]
    cams = grad_cam(model, torch.randn(2, 3, size, size))
    assert cams.shape == (2, size, size) and np.isfinite(cams).all() and cams.max() <= 1.0


def test_layer_auto_reads_a_finer_stage_when_the_last_map_is_coarse(one_thread):
    torch.manual_seed(0)
    model = timm.create_model("resnet10t", pretrained=False, num_classes=2).eval()
    assert resolve_layer(model, (64, 64), "last") is None
    assert resolve_layer(model, (64, 64), "auto") == "layer2"  # stride 8: 8 x 8 cells, the last stage has 2 x 2
    assert resolve_layer(model, (256, 256), "auto") is None  # the last stage already has 8 x 8
    x = torch.randn(1, 3, 64, 64)
    coarse, fine = grad_cam(model, x, 0), grad_cam(model, x, 0, layer="auto")
    assert coarse.shape == fine.shape == (1, 64, 64)
    cells = lambda m, k: len(np.unique(m[0, k // 2 :: k, k // 2 :: k].round(5)))  # noqa: E731 - one value per cell
    assert cells(coarse, 32) <= 4 < cells(fine, 8)
    with pytest.raises(any2img.errors.ParameterError, match="layer"):
        grad_cam(model, x, 0, layer="no.such.module")


def test_upsample_keeps_a_constant_map_and_reaches_the_picture_size():
    out = upsample(np.ones((2, 4, 4), np.float32), (10, 6))
    assert out.shape == (2, 10, 6)
    np.testing.assert_allclose(out, 1.0)


def test_half_mass_marks_the_fewest_entries_holding_half():
    assert half_mass(np.array([0.1, 0.1, 0.1, 0.7])).tolist() == [False, False, False, True]
    assert half_mass(np.array([0.2, 0.2, 0.2, 0.4])).tolist() == [True, False, False, True]  # 0.4 < half
    assert half_mass(np.array([0.3, 0.3, 0.2, 0.2])).tolist() == [True, True, False, False]
    assert not half_mass(np.zeros(3)).any()


# -- end to end on tiny data -------------------------------------------------------------------------------------
def _bumps(rng: np.random.Generator, where: int) -> np.ndarray:
    t = np.arange(60)
    return np.exp(-0.5 * ((t - where) / 3.0) ** 2) + 0.05 * rng.standard_normal(60)


@pytest.fixture(scope="module")
def series_model(tmp_path_factory):
    """A tiny model telling a bump early in a series (steps ~15) from one late (~45), on line plots."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("explain")
    rng = np.random.default_rng(0)
    for split, n in (("train", 10), ("test", 3)):
        for label, where in (("early", 15), ("late", 45)):
            folder = root / "series" / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                np.save(folder / f"{label}{i}.npy", _bumps(rng, where + int(rng.integers(-3, 4))))
    report = convert_dir("lineplot", root / "series", root / "img", params={"image_size": 32}, workers=1,
                         progress=False)
    assert report.ok
    split = split_items(items_from_manifest(root / "img"), valid_pct=0.2, seed=0, test="predefined")
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=8, seed=0,
                    verbose=False)
    with warnings.catch_warnings():  # four validation series: their loss wanders, and the warning says so
        warnings.simplefilter("ignore", OverfittingWarning)
        learn.fit_one_cycle(6, 1e-2)
    learn.export(root / "model")
    yield root
    torch.set_num_threads(before)


def test_cli_explain_writes_the_figure_and_the_relevance_per_time_step(series_model, tmp_path, capsys):
    root = series_model
    inputs = [root / "series" / "test" / "early" / "early0.npy", root / "series" / "test" / "late" / "late0.npy"]
    assert main(["explain", str(root / "model"), *map(str, inputs), "--out", str(tmp_path), "--method", "both",
                 "--device", "cpu"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["source"] for line in lines] == [str(p) for p in inputs]
    for stem in ("early0", "late0"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 10_000
        with open(tmp_path / f"{stem}.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 60 and {"window", "channel", "step", "relevance", "occlusion_relevance"} <= set(rows[0])
        assert [int(r["step"]) for r in rows] == list(range(60))
        summary = json.loads((tmp_path / f"{stem}.json").read_text())
        assert summary["predicted"] in ("early", "late") and summary["method"] == "both"
        assert summary["windows"][0]["relevance"]["kind"] == "series"
        assert summary["converter"]["name"] == "lineplot"


def test_cli_explain_method_signal_writes_relevance_per_time_step_from_removing_steps(series_model, tmp_path, capsys):
    root = series_model
    series = root / "series" / "test" / "late" / "late0.npy"
    assert main(["explain", str(root / "model"), str(series), "--out", str(tmp_path), "--method", "signal",
                 "--device", "cpu"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["source"] == str(series) and line["predicted"] in ("early", "late")
    assert (tmp_path / "late0.png").stat().st_size > 10_000
    with open(tmp_path / "late0.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == list(range(60)) and {"window", "channel", "relevance"} <= set(rows[0])
    summary = json.loads((tmp_path / "late0.json").read_text())
    assert summary["method"] == "signal" and summary["windows"][0]["relevance"]["kind"] == "series"
    info = summary["windows"][0]["signal_occlusion"]
    assert (info["unit"], info["n_parts"], info["span"], info["stride"]) == ("step", 60, 4, 2)  # ceil(60 / 15), half
    assert 0.0 <= info["probability_without_relevant"] <= 1.0


def test_predictor_explain_method_signal_scores_the_drop_when_steps_are_removed(series_model):
    predictor = any2img.load(series_model / "model", device="cpu")
    series = _bumps(np.random.default_rng(5), 45)
    ex = predictor.explain(series, method="signal")
    rel = ex.windows[0].relevance
    assert isinstance(rel, SeriesRelevance) and rel.values.shape == (1, 60)
    assert ex.windows[0].details["signal_occlusion"]["n_spans"] == 29  # spans of 4 steps every 2: 0-3 ... 56-59
    c = predictor.classes.index(ex.label)

    def plain(x: np.ndarray) -> float:  # occlusion scores the plain picture, not the test-time passes' mean
        return float(predictor.predict_images(predictor.converter.convert_batch([x]))[0, c])

    def p_without(lo: int, hi: int) -> float:  # the steps lo..hi-1 interpolated away by hand
        cut = series.copy()
        cut[lo:hi] = np.interp(np.arange(lo, hi), [lo - 1, hi], series[[lo - 1, hi]])
        return plain(cut)

    assert predictor.tta == 4  # series models average test-time passes by default; the explanation does not
    p0 = plain(series)
    # step 29 is covered by the spans 26-29 and 28-31: its relevance is the mean of their drops
    expected = p0 - (p_without(26, 30) + p_without(28, 32)) / 2
    assert rel.values[0, 29] == pytest.approx(expected, abs=1e-5)


def test_predictor_explain_returns_relevance_in_time_steps_and_checks_its_target(series_model):
    predictor = any2img.load(series_model / "model", device="cpu")
    series = _bumps(np.random.default_rng(5), 45)
    ex = predictor.explain(series)
    assert isinstance(ex.windows[0].relevance, SeriesRelevance)
    assert ex.windows[0].relevance.values.shape == (1, 60)
    assert ex.windows[0].attribution.shape == (32, 32)  # upsampled to the converter's picture
    assert ex.to_dict()["layer"] == "auto"  # the default: a finer stage where the last map is too coarse
    last = predictor.explain(series, layer="last")
    assert last.to_dict()["layer"] == "last" and last.windows[0].relevance.values.shape == (1, 60)
    other = next(c for c in predictor.classes if c != ex.predicted)
    assert predictor.explain(series, target=other).label == other
    with pytest.raises(any2img.errors.ParameterError, match="target"):
        predictor.explain(series, target="nope")


def test_evaluate_explains_the_worst_items_beside_their_picture(series_model, tmp_path):
    result = any2img.evaluate(series_model / "model", series_model / "img", out=tmp_path, device="cpu",
                              explain_top=2)
    assert (tmp_path / "top_losses.png").is_file()
    for n in (1, 2):
        summary = json.loads((tmp_path / "explanations" / f"top_loss_{n}.json").read_text())
        assert summary["windows"][0]["relevance"]["kind"] == "series"  # mapped through the source's converter
        assert summary["source"].endswith(".npy")
    assert not (tmp_path / "explanations" / "top_loss_3.json").exists()
    assert "top_loss_1_figure" in result.files


RATE = 8000
MEL = {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "n_mels": 32, "image_size": 32, "duration": 0.25}


def test_explain_picks_the_windows_of_a_long_recording_that_hold_the_class(tmp_path, one_thread):
    rng = np.random.default_rng(0)
    t = np.arange(RATE // 4) / RATE
    for label, freq in (("low", 300.0), ("high", 2500.0)):
        (tmp_path / "wav" / label).mkdir(parents=True)
        for i in range(6):
            tone = 0.5 * np.sin(2 * np.pi * freq * (1 + 0.03 * i) * t) + 0.02 * rng.standard_normal(t.size)
            sf.write(tmp_path / "wav" / label / f"{label}{i}.wav", tone.astype(np.float32), RATE)
    assert convert_dir("mel", tmp_path / "wav", tmp_path / "img", params=MEL, workers=1, progress=False).ok
    split = split_items(items_from_manifest(tmp_path / "img"), valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, seed=0, verbose=False)
    learn.fit_one_cycle(3, 1e-2)
    learn.export(tmp_path / "model")
    predictor = any2img.load(tmp_path / "model", device="cpu")
    # 2 s of a low hum with a high tone from 1.0 s to 1.25 s: window 4 of 8 (0.25 s each)
    full = np.arange(2 * RATE) / RATE
    y = 0.5 * np.sin(2 * np.pi * 300.0 * full)
    y[RATE : RATE + RATE // 4] = 0.5 * np.sin(2 * np.pi * 2500.0 * full[RATE : RATE + RATE // 4])
    ex = predictor.explain(y.astype(np.float32), target="high", max_windows=1)
    assert ex.n_windows == 8 and [w.window.index for w in ex.windows] == [4]
    rel = ex.windows[0].relevance
    assert isinstance(rel, SpectrogramRelevance)
    assert rel.times[0] == pytest.approx(1.0) and rel.times[-1] <= 1.25 + 1e-9  # seconds of the recording
    saved = ex.save(tmp_path / "out")
    assert saved["figure"].stat().st_size > 10_000
    with open(saved["csv"], newline="") as fh:
        first = next(csv.DictReader(fh))
    assert {"seconds", "Hz", "relevance"} <= set(first) and float(first["seconds"]) == pytest.approx(1.0)
