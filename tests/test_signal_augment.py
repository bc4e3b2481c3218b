"""Signal-domain augmentation: each family perturbs its signal; training pictures are drawn afresh from it."""

from __future__ import annotations

import numpy as np
import pytest

import any2img
from any2img.data import items_from_manifest, split_items
from any2img.errors import ParameterError
from any2img.registry import get_converter_class


@pytest.mark.parametrize("name", ["gadf", "lineplot", "mel", "trajectory"])
def test_each_family_perturbs_its_signal_and_keeps_its_kind(name):
    conv = any2img.get_converter(name)
    signal = conv.example_signal(0)
    window = conv.segment(signal)[0].data
    a = conv.augment_signal(window, np.random.default_rng(1))
    b = conv.augment_signal(window, np.random.default_rng(2))
    assert type(a) is type(window)
    pa, pb, p0 = conv.convert(a), conv.convert(b), conv.convert(window)
    assert pa.shape == p0.shape or name == "mel"  # a faster clip is a narrower spectrogram
    assert not np.array_equal(pa, p0) and not np.array_equal(pa, pb)
    again = conv.augment_signal(window, np.random.default_rng(1))
    assert np.array_equal(conv.convert(again), pa)  # the generator decides, nothing else


def test_a_converter_without_augmentation_says_so():
    with pytest.raises(ParameterError, match="has no signal-domain augmentation"):
        any2img.get_converter("image").augment_signal(np.zeros((4, 4, 3), np.uint8), np.random.default_rng(0))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("sig")
    rng = np.random.default_rng(0)
    for label, freq in (("slow", 1.0), ("fast", 4.0)):
        folder = root / "src" / label
        folder.mkdir(parents=True)
        for i in range(8):
            t = np.linspace(0, 1, 64)
            series = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6)) + 0.1 * rng.normal(size=64)
            (folder / f"s{i}.csv").write_text(",".join(f"{v:.4f}" for v in series) + "\n")
    any2img.convert_dir("gasf", root / "src", root / "out", params={"image_size": 16}, progress=False)
    return root / "out"


def test_signal_dataset_redraws_the_stored_picture_and_augmentation_changes_it(converted):
    from any2img.data.dataset import ImageDataset
    from any2img.data.signals import SignalDataset
    from any2img.data.transforms import DataConfig

    items = items_from_manifest(converted)
    config = DataConfig((3, 16, 16), (0.5,) * 3, (0.5,) * 3)
    classes = sorted({str(i.label) for i in items})
    stored = ImageDataset(items, classes, config)
    exact = SignalDataset(items, classes, config, augment=False)
    perturbed = SignalDataset(items, classes, config)
    changed = 0
    for i in range(len(items)):
        assert np.array_equal(exact.image(i), stored.image(i))  # the pipeline redraws the picture exactly
        changed += not np.array_equal(perturbed.image(i), stored.image(i))
        assert perturbed[i][1] == stored[i][1]  # never the label
    assert changed == len(items)


def test_learner_trains_on_signal_augmented_pictures_and_evaluates_the_stored_ones(converted):
    from any2img.data.dataset import ImageDataset
    from any2img.data.signals import SignalDataset
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted), valid_pct=0.25, seed=0, test=0.25)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu", augment="signal")
    learn.fine_tune(1, 5e-3)
    assert isinstance(learn._train_loader().dataset, SignalDataset)
    assert type(learn._dataset("test")) is ImageDataset and type(learn._dataset("valid")) is ImageDataset
    assert learn.evaluate("test")["n"] == len(split.test)


def test_test_time_augmentation_averages_perturbed_pictures(converted):
    from any2img.learn import Learner

    split = split_items(items_from_manifest(converted), valid_pct=0.25, seed=0, test=0.25)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")
    plain, targets = learn.get_preds("test")
    averaged, same = learn.get_preds("test", tta=3)
    assert np.array_equal(targets, same) and averaged.shape == plain.shape
    assert np.allclose(averaged.sum(axis=1), 1.0, atol=1e-5) and not np.allclose(averaged, plain)


def test_auto_augment_is_signal_for_audio_pictures_with_their_sources(converted_audio):
    from any2img.data.signals import SignalDataset, default_augment
    from any2img.learn import Learner

    items = items_from_manifest(converted_audio / "out")
    assert get_converter_class("mel").augments_by_default
    assert default_augment(items) == "signal"
    split = split_items(items, valid_pct=0.25, seed=0)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")  # augment="auto", the default
    assert learn.settings.augment == "auto" and learn.augment == "signal"
    assert isinstance(learn._train_loader().dataset, SignalDataset)
    assert learn.config()["augment"] == "signal"  # the artifact records what "auto" became
    off = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                  device="cpu", augment=None)  # an explicit choice overrides
    assert off.augment is None and not isinstance(off._train_loader().dataset, SignalDataset)


def test_auto_augment_follows_the_family_and_needs_the_sources(converted, converted_audio, tmp_path):
    import shutil

    from any2img.data import items_from_arrays
    from any2img.data.signals import default_augment

    assert get_converter_class("gasf").augments_by_default  # series: measured to win (DEFAULTS.md, tenth round)
    assert default_augment(items_from_manifest(converted)) == "signal"
    assert not get_converter_class("trajectory").augments_by_default  # not measured to win
    assert default_augment(items_from_arrays(np.zeros((4, 8, 8, 3), np.uint8), ["a", "b"] * 2)) is None
    shutil.copytree(converted_audio / "src", tmp_path / "src")
    any2img.convert_dir("mel", tmp_path / "src", tmp_path / "out", params={"n_mels": 32}, progress=False)
    assert default_augment(items_from_manifest(tmp_path / "out")) == "signal"
    shutil.rmtree(tmp_path / "src")  # the sources are gone: train on the pictures as they are
    assert default_augment(items_from_manifest(tmp_path / "out")) is None


def test_audio_models_average_test_time_augmentation_alike_in_every_path(converted_audio, tmp_path):
    """TTA by default where training augments the signal: evaluate, get_preds, any2img.evaluate and predict agree."""
    from any2img.learn import Learner
    from any2img.learn.inference import tta_mean

    items = items_from_manifest(converted_audio / "out")
    split = split_items(items, valid_pct=0.25, seed=0, test=0.25)
    learn = Learner(split, backbone="resnet10t", pretrained=False, image_size=32, batch_size=4, verbose=False,
                    device="cpu")
    learn.fine_tune(1, 5e-3)
    assert learn.augment == "signal" and learn.tta == 4
    plain, targets = learn.get_preds("test", tta=0)
    averaged, _ = learn.get_preds("test")  # the default: learn.tta passes
    assert not np.allclose(averaged, plain)
    assert np.array_equal(averaged, learn.get_preds("test")[0])  # fixed draws: the answers repeat
    by_hand = tta_mean(learn.model, split.test, learn.classes, learn.data_config, plain, 4)
    assert np.allclose(averaged, by_hand, atol=1e-6)
    result = learn.evaluate("test")
    assert result["tta"] == 4
    assert result["accuracy"] == pytest.approx(float(np.mean(averaged.argmax(1) == targets)))
    picked = averaged[np.arange(len(targets)), targets]
    assert result["loss"] == pytest.approx(float(-np.mean(np.log(picked))), rel=1e-5)

    model_dir = learn.export(tmp_path / "model")
    predictor = any2img.load(model_dir)
    assert predictor.tta == 4
    for row, item in zip(averaged, split.test):  # from the raw clip, as a user predicts
        answer = predictor.predict(converted_audio / "src" / str(item.source))
        assert np.allclose(answer.window_probabilities[0], row, atol=1e-4)
    from any2img.learn.heldout import SeenItemsWarning

    with pytest.warns(SeenItemsWarning):  # the training and validation clips are left out
        report = any2img.evaluate(model_dir, converted_audio / "out", explain_top=0)
    assert report.metrics["tta"] == 4 and report.metrics["n"] == len(split.test)
    assert report.metrics["accuracy"] == pytest.approx(result["accuracy"])
    assert report.metrics["loss"] == pytest.approx(result["loss"], rel=1e-4)


def test_test_time_augmentation_follows_training_and_is_off_when_asked(converted, converted_audio):
    from any2img.learn import Learner

    series = split_items(items_from_manifest(converted), valid_pct=0.25, seed=0)
    audio = split_items(items_from_manifest(converted_audio / "out"), valid_pct=0.25, seed=0)
    small = {"backbone": "resnet10t", "pretrained": False, "image_size": 32, "verbose": False, "device": "cpu"}
    assert Learner(series, **small).tta == 4  # series train on perturbed copies by default: 4 test-time passes
    assert Learner(series, augment=None, **small).tta == 0  # no signal augmentation in training: none at test time
    assert Learner(audio, tta=0, **small).tta == 0 and Learner(audio, augment=None, **small).tta == 0
    assert Learner(series, tta=2, **small).tta == 2
    with pytest.raises(ParameterError, match="tta"):
        Learner(audio, tta=-1, **small)
