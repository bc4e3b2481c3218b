"""Options of the signal augmentation: listed by the converter, checked, carried by the Learner into the artifact."""

from __future__ import annotations

import json

import numpy as np
import pytest

import any2img
from any2img.data import items_from_manifest, split_items
from any2img.errors import ParameterError

SMALL = {"backbone": "resnet10t", "pretrained": False, "image_size": 32, "batch_size": 4, "verbose": False,
         "device": "cpu"}


@pytest.mark.parametrize(("name", "some"), [("mel", "eq_db"), ("gadf", "jitter"), ("trajectory", "rotate_deg")])
def test_each_family_lists_its_options_with_their_defaults_and_rules(name, some):
    conv = any2img.get_converter(name)
    options = conv.augment_options()
    assert some in options and all(isinstance(v, (float, tuple)) for v in options.values())
    assert set(conv.augment_rules()) == set(options)  # every option has a rule
    assert conv.check_augment_options(options) == options  # the defaults meet their rules
    assert any2img.get_converter("image").augment_options() == {} == any2img.get_converter("image").augment_rules()


def test_options_are_checked_by_name_and_rule():
    mel = any2img.get_converter("mel")
    assert mel.check_augment_options({"speed": 0.2, "snr_db": "10,30", "eq_db": 0}) == {
        "speed": 0.2, "snr_db": (10.0, 30.0), "eq_db": 0.0}
    assert mel.check_augment_options({"snr_db": [5, 15]}) == {"snr_db": (5.0, 15.0)}
    assert mel.check_augment_options(None) == {}
    with pytest.raises(ParameterError, match=r"'sped' is not an option .* converter 'mel' \(it takes speed, shift"):
        mel.check_augment_options({"sped": 0.2})
    bad = [({"speed": "fast"}, r"'augment_options.speed' must be a finite number in \[0, 1\)"),
           ({"speed": 1.0}, r"augment_options.speed"), ({"speed": True}, "augment_options.speed"),
           ({"speed": float("nan")}, "augment_options.speed"), ({"shift": -0.1}, "augment_options.shift"),
           ({"time_mask": 2.0}, "augment_options.time_mask"),
           ({"snr_db": [1, 2, 3]}, r"'augment_options.snr_db' must be a pair \(low, high\)"),
           ({"snr_db": "40,20"}, "augment_options.snr_db"), ({"snr_db": [float("nan"), 30]}, "augment_options.snr_db"),
           ({"snr_db": [True, False]}, "augment_options.snr_db"), ({"snr_db": "low,high"}, "augment_options.snr_db")]
    for options, message in bad:
        with pytest.raises(ParameterError, match=message):
            mel.check_augment_options(options)
    with pytest.raises(ParameterError, match="augment_options.slice_fraction"):
        any2img.get_converter("gadf").check_augment_options({"slice_fraction": 0.0})
    with pytest.raises(ParameterError, match="augment_options.time_jitter"):
        any2img.get_converter("trajectory").check_augment_options({"time_jitter": 2.0})


def test_every_perturbation_off_leaves_the_picture_as_it_was():
    """Hand-checkable: no speed change, shift, gain, colour or noise worth a pixel gives the plain picture."""
    mel = any2img.get_converter("mel", sample_rate=8000)
    window = mel.segment(mel.example_signal(0))[0].data
    off = {"speed": 0.0, "shift": 0.0, "gain_db": 0.0, "eq_db": 0.0, "snr_db": (200.0, 201.0)}
    still = mel.augment_signal(window, np.random.default_rng(3), **off)
    assert np.abs(mel.convert(still).astype(int) - mel.convert(window).astype(int)).max() <= 1
    moved = mel.augment_signal(window, np.random.default_rng(3), **{**off, "eq_db": 12.0})
    assert not np.array_equal(mel.convert(moved), mel.convert(window))  # the one option left on changes it


def test_the_learner_trains_and_predicts_with_its_options_and_the_model_records_them(converted_audio, tmp_path,
                                                                                     monkeypatch):
    from any2img.converters.audio.base import AudioConverter

    from any2img.learn import Learner
    from any2img.learn.inference import tta_mean
    from any2img.learn.refit import refit

    split = split_items(items_from_manifest(converted_audio / "out"), valid_pct=0.25, seed=0, test=0.25)
    learn = Learner(split, augment_options={"eq_db": 0, "snr_db": "30,40"}, **SMALL)
    assert learn.augment_options == {"eq_db": 0.0, "snr_db": (30.0, 40.0)}
    seen: list[dict] = []
    original = AudioConverter.augment_signal

    def spy(self, signal, rng, **options):
        seen.append(options)
        return original(self, signal, rng, **options)

    monkeypatch.setattr(AudioConverter, "augment_signal", spy)
    learn.fine_tune(1, 5e-3)
    assert len(seen) >= len(split.train) and all(o == learn.augment_options for o in seen)  # training drew with them
    seen.clear()
    plain, targets = learn.get_preds("test", tta=0)
    averaged, _ = learn.get_preds("test")
    assert len(seen) == 4 * len(split.test) and all(o == learn.augment_options for o in seen)  # and the passes
    with_options = tta_mean(learn.model, split.test, learn.classes, learn.data_config, plain, 4,
                            options=learn.augment_options)
    with_defaults = tta_mean(learn.model, split.test, learn.classes, learn.data_config, plain, 4)
    assert np.allclose(averaged, with_options, atol=1e-6) and not np.allclose(averaged, with_defaults)
    assert refit(learn, verbose=False).augment_options == learn.augment_options

    model_dir = learn.export(tmp_path / "model")
    training = json.loads((model_dir / "model.json").read_text())["training"]
    assert training["augment_options"] == {"eq_db": 0.0, "snr_db": [30.0, 40.0]}
    predictor = any2img.load(model_dir)
    assert predictor.augment_options == learn.augment_options
    for row, item in zip(averaged, split.test):  # test-time passes from the raw clip draw alike
        answer = predictor.predict(converted_audio / "src" / str(item.source))
        assert np.allclose(answer.window_probabilities[0], row, atol=1e-4)
    from any2img.learn.heldout import SeenItemsWarning

    with pytest.warns(SeenItemsWarning):
        report = any2img.evaluate(model_dir, converted_audio / "out", explain_top=0)
    assert report.metrics["accuracy"] == pytest.approx(float(np.mean(averaged.argmax(1) == targets)))
    picked = averaged[np.arange(len(targets)), targets]
    assert report.metrics["loss"] == pytest.approx(float(-np.mean(np.log(picked))), rel=1e-4)


def test_a_model_json_with_bad_options_is_refused_by_name(converted_audio, tmp_path):
    import shutil

    from any2img.errors import ArtifactError
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted_audio / "out"), valid_pct=0.25, seed=0)
    good = Learner(split, **SMALL).export(tmp_path / "good")
    for options, message in (({"sped": 1}, r"'training.augment_options' is not valid .* 'sped' is not an option"),
                             ({"speed": 5.0}, "augment_options.speed"),
                             ("speed", r"'training.augment_options' must be a dict"),
                             ([["speed", 0.2]], r"'training.augment_options' must be a dict")):
        bad = tmp_path / "bad"
        shutil.rmtree(bad, ignore_errors=True)
        shutil.copytree(good, bad)
        meta = json.loads((bad / "model.json").read_text())
        meta["training"]["augment_options"] = options
        (bad / "model.json").write_text(json.dumps(meta))
        with pytest.raises(ArtifactError, match=message) as info:
            any2img.load(bad)
        assert "model.json" in str(info.value)
    meta["training"].update(augment_options={"speed": 5.0}, tta=2)  # evaluate's test-time passes read them too
    (bad / "model.json").write_text(json.dumps(meta))
    from any2img.learn.heldout import SeenItemsWarning

    with pytest.warns(SeenItemsWarning), pytest.raises(ArtifactError, match="augment_options.speed") as info:
        any2img.evaluate(bad, converted_audio / "out", out=tmp_path / "report", all_items=True, include_seen=True)
    assert str(bad / "model.json") in str(info.value)


def test_the_learner_refuses_options_it_cannot_use(converted_audio):
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted_audio / "out"), valid_pct=0.25, seed=0)
    with pytest.raises(ParameterError, match="'sped' is not an option"):
        Learner(split, augment_options={"sped": 0.2}, **SMALL)
    with pytest.raises(ParameterError, match="augment_options.speed"):
        Learner(split, augment_options={"speed": -0.2}, **SMALL)
    with pytest.raises(ParameterError, match=r"nothing perturbs signals here \(augment is None, tta is 0\)"):
        Learner(split, augment=None, tta=0, augment_options={"speed": 0.2}, **SMALL)
    with pytest.raises(ParameterError, match="'augment_options' must be a dict"):
        Learner(split, augment_options="speed=0.2", **SMALL)
    assert Learner(split, augment=None, augment_options={}, **SMALL).augment_options == {}
    tta_only = Learner(split, augment=None, tta=2, augment_options={"speed": 0.0}, **SMALL)  # test-time passes only
    assert tta_only.augment_options == {"speed": 0.0}


def test_cli_takes_augment_options_and_records_them(converted_audio, tmp_path, capsys):
    from any2img.cli import main

    model = tmp_path / "model"
    args = ["train", str(converted_audio / "out"), "--out", str(model), "--epochs", "1", "--backbone", "resnet10t",
            "--no-pretrained", "--image-size", "32", "--batch-size", "4", "--device", "cpu", "-q"]
    assert main([*args, "--augment-option", "speed=0.2", "--augment-option", "eq_db=0"]) == 0, capsys.readouterr()
    assert json.loads((model / "model.json").read_text())["training"]["augment_options"] == {"speed": 0.2,
                                                                                            "eq_db": 0.0}
    capsys.readouterr()
    assert main([*args, "--augment-option", "speed"]) != 0
    assert "'--augment-option' must look like key=value" in capsys.readouterr().err
    assert main([*args, "--augment-option", "sped=0.2"]) != 0
    assert "'sped' is not an option of the signal augmentation of converter 'mel'" in capsys.readouterr().err
