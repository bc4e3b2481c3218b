"""The Learner's settings: declared once, taken as before (by position and keyword), checked with the house messages."""

from __future__ import annotations

import inspect

import pytest

from any2img.data import items_from_arrays, split_items
from any2img.errors import ParameterError
from any2img.learn import Learner
from any2img.learn.settings import POSITIONAL, LearnerSettings

#: The Learner's signature after ``split`` before the settings object: (name, default), by position then by keyword;
#: one default changed since, on purpose: augment None -> "auto" (signal-domain augmentation for audio, issue 10);
#: one setting added: tta (test-time augmentation where training augments the signal, issue 10).
BY_POSITION = [("backbone", "tf_efficientnet_lite0"), ("pretrained", True), ("image_size", None),
               ("batch_size", None), ("metrics", ("accuracy", "error_rate", "macro_f1")), ("seed", 0),
               ("augment", "auto"), ("num_workers", 0), ("device", "auto")]
BY_KEYWORD = [("weights", None), ("label_smoothing", 0.0), ("mixup", 0.0), ("weight_decay", 0.01),
              ("selection", "paired"), ("early_stopping", False), ("patience", 3), ("mixed_precision", True),
              ("verbose", True), ("num_threads", None), ("convert_on", "files"), ("tta", None),
              ("augment_options", None)]


def _split():
    import numpy as np

    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (12, 16, 16), dtype=np.uint8)
    return split_items(items_from_arrays(imgs, ["a", "b"] * 6), valid_pct=0.25, seed=0)


def test_the_signature_is_the_learners_of_before():
    params = list(inspect.signature(Learner).parameters.values())
    assert params[0].name == "split"
    by_position = [(p.name, p.default) for p in params[1:] if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    by_keyword = [(p.name, p.default) for p in params[1:] if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert by_position == BY_POSITION and by_keyword == BY_KEYWORD
    assert tuple(name for name, _ in BY_POSITION) == POSITIONAL
    assert LearnerSettings().arguments() == dict(BY_POSITION + BY_KEYWORD)


def test_positional_and_keyword_settings_land_under_their_names():
    learn = Learner(_split(), "resnet10t", False, 16, 4, ("accuracy",), 3, None, 0, "cpu", mixup=0.2, verbose=False)
    s = learn.settings
    assert (s.backbone, s.pretrained, s.image_size, s.batch_size, s.metrics, s.seed, s.mixup) == (
        "resnet10t", False, 16, 4, ("accuracy",), 3, 0.2)
    assert (learn.backbone, learn.pretrained, learn.seed, learn.mixup, learn.verbose) == ("resnet10t", False, 3, 0.2,
                                                                                         False)
    assert learn.batch_size == 4 and str(learn.device) == "cpu" and s.device == "cpu"
    with pytest.raises(AttributeError):
        s.mixup = 0.5  # type: ignore[misc]  # frozen: what was asked stays as asked


def test_arguments_it_does_not_take_are_type_errors():
    with pytest.raises(TypeError, match=r"Learner.__init__\(\) got an unexpected keyword argument 'mix_up'"):
        Learner(_split(), mix_up=0.2)
    with pytest.raises(TypeError, match="multiple values for argument 'backbone'"):
        Learner(_split(), "resnet10t", backbone="resnet18")
    with pytest.raises(TypeError, match="too many positional arguments"):
        Learner(_split(), *range(10))


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("label_smoothing", 1.0, "'label_smoothing' must be a finite number in [0.0, 1.0) (got 1.0)."),
    ("mixup", 11, "'mixup' must be a finite number in [0.0, 10.0] (got 11)."),
    ("weight_decay", -1, "'weight_decay' must be a finite number >= 0.0 (got -1)."),
    ("selection", "best", "'selection' must be one of 'lowest', 'paired' (got 'best')."),
    ("early_stopping", 1, "'early_stopping' must be True or False (got 1)."),
    ("patience", 0, "'patience' must be an int >= 1 (got 0)."),
    ("num_threads", 0, "'num_threads' must be an int >= 1 (got 0)."),
    ("convert_on", "gpu", "'convert_on' must be one of 'files', 'device' (got 'gpu')."),
    ("seed", 1.5, "'seed' must be an int (got 1.5)."),
    ("num_workers", -1, "'num_workers' must be an int >= 0 (got -1)."),
    ("batch_size", 0, "'batch_size' must be an int >= 1 (got 0)."),
    ("pretrained", "yes", "'pretrained' must be True or False (got 'yes')."),
])
def test_a_bad_setting_is_refused_with_the_house_message(setting, value, message):
    with pytest.raises(ParameterError) as info:
        LearnerSettings(**{setting: value})
    assert str(info.value) == message
    with pytest.raises(ParameterError) as info:
        Learner(_split(), **{"backbone": "resnet10t", "pretrained": False, "device": "cpu", setting: value})
    assert str(info.value) == message
