"""The Learner: fine-tune a pretrained timm backbone on a :class:`~any2img.data.Split`.

The Learner holds a model's state and wires the parts of :mod:`any2img.learn`
that do the work: ``settings`` (what it was asked for, checked), ``loaders``,
``step`` (the one train step), ``plans`` (what each training method trains),
``loop`` (the epochs and the callbacks that watch them), ``trial``
(``lr_find``, the time-budget probe), ``scoring``, ``resume``, ``export`` and
``seeding`` (its own random states).

Example
-------
>>> from any2img.data import items_from_folder, split_items   # doctest: +SKIP
>>> split = split_items(items_from_folder("images/"), valid_pct=0.2, seed=42)
>>> learn = Learner(split)                      # lite0, ImageNet weights, offline
>>> learn.fine_tune(4)                          # all layers, one-cycle, 2e-3
>>> learn.evaluate("test")
>>> learn.export("model/")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from any2img.data.dataset import ImageDataset
from any2img.data.items import ImageItems
from any2img.data.signals import augment_options, default_augment
from any2img.data.splits import Split
from any2img.data.transforms import build_augment
from any2img.errors import InputError, ParameterError
from any2img.learn import export as exporting
from any2img.learn import plans, scoring, step, trial
from any2img.learn.backbones import create_backbone, place_model
from any2img.learn.budget import native_size, plan_budget
from any2img.learn.inference import resolve_device
from any2img.learn.loaders import Loaders
from any2img.learn.loop import Phase, TrainingLoop
from any2img.learn.resume import load_learner, save_learner
from any2img.learn.schedule import DEFAULT_LR, LRFindResult
from any2img.learn.seeding import OwnRandomState, seed_everything
from any2img.learn.settings import LearnerSettings, signature
from any2img.validation import check_bool

__all__ = ["DEFAULT_LR", "Learner", "seed_everything"]

EpochHook = Callable[["Learner", dict[str, Any]], Any]
Folder = str | os.PathLike[str]
Records = list[dict[str, Any]]


class Learner:
    """Fine-tunes a timm image model on a split of labelled images.

    Parameters
    ----------
    split : Split
        From :func:`any2img.data.split_items`. Training reads ``train``; metrics and model selection
        ``valid``; only ``evaluate``, ``get_preds`` and ``interpret`` read ``test``.
    *args, **kwargs
        The settings of :class:`~any2img.learn.settings.LearnerSettings`, documented there with their
        defaults: ``backbone`` to ``device`` by position or keyword, the rest (``weights`` on) by keyword.

    Attributes
    ----------
    settings : LearnerSettings
        As given, checked; each setting is also an attribute of its own name
        (``learn.mixup``), but for what the Learner resolves: ``device`` (the
        ``torch.device`` it names), ``batch_size`` (the given one, or the one
        :attr:`budget` planned), ``augment`` (what ``"auto"`` became), ``tta``
        (what None became) and ``augment_options`` (checked by the converter:
        numbers as floats, pairs as tuples; ``{}`` when none).
    model : torch.nn.Module
    classes : list of str
    data_config : DataConfig
    history : list of dict
        One record per epoch: ``epoch``, ``phase``, ``train_loss``, ``valid_loss``, metrics, ``lr``, ``time``.
    evaluations : dict
        The last ``evaluate`` result per side (``"valid"``, ``"test"``).
    budget : Budget
        The batch size, epochs and input size planned from the data, and why (``budget.describe()``).
    selected_epoch : int or None
        The epoch whose weights the model holds after the last run (``selection``'s choice).
    """

    def __init__(self, split: Split, *args: Any, **kwargs: Any) -> None:
        if not isinstance(split, Split):
            raise ParameterError(f"'split' must be a Split from any2img.data.split_items (got {type(split).__name__}).")
        self.split, self.classes = split, list(split.classes)
        s = self.settings = LearnerSettings.from_arguments(args, kwargs)
        vars(self).update(s.arguments())  # each setting under its own name too (learn.mixup)
        self.budget = plan_budget(max(len(split.train), 1), max(len(split.classes), 1),
                                  None if s.image_size is not None else native_size(split.train),
                                  batch_size=s.batch_size, image_size=s.image_size)
        self.batch_size = self.budget.batch_size
        self.refit_of: dict[str, Any] | None = None  # set by any2img.learn.refit.refit
        self.augment = default_augment(split.train) if s.augment == "auto" else s.augment  # what "auto" became
        transform = None if self.augment == "signal" else build_augment(self.augment)  # "signal": from raw signals
        #: Test-time augmentation passes that evaluate, get_preds and the exported model use (what None became).
        self.tta: int = (scoring.TTA_PASSES if self.augment == "signal" else 0) if s.tta is None else s.tta
        #: The signal augmentation's options (training and test-time passes), checked by the converter.
        self.augment_options: dict[str, Any] = augment_options(split.train, s.augment_options, self.augment,
                                                               self.tta)
        if len(self.classes) < 2:
            raise InputError(f"a classifier needs at least 2 classes (got {self.classes}).")
        self.device: torch.device = resolve_device(s.device)
        if self.device.type == "cpu" and s.num_threads is not None and torch.get_num_threads() != s.num_threads:
            torch.set_num_threads(s.num_threads)  # only when asked: the process's setting is the user's
        self._rng = OwnRandomState(s.seed, self.device)  # the process's generators stay the user's
        with self._rng:
            built = create_backbone(s.backbone, len(self.classes), pretrained=s.pretrained, weights=s.weights,
                                    image_size=self.budget.image_size)
            self.model: nn.Module = place_model(built.model, self.device)
        self.data_config, self.weights_source, self.model_kwargs = built.data_config, built.weights, built.model_kwargs
        self.history: Records = []
        self.evaluations: dict[str, dict[str, float]] = {}
        self._evaluated_at: dict[str, int] = {}  # side -> len(history) when evaluated
        self.fits: Records = []
        self.selected_epoch: int | None = None
        self._generator = torch.Generator().manual_seed(s.seed)
        self._loaders = Loaders(split, self.classes, self.data_config, augment=transform,
                                signal_augment=self.augment == "signal", signal_options=self.augment_options,
                                convert_on=s.convert_on, device=self.device,
                                batch_size=self.batch_size, seed=s.seed, num_workers=s.num_workers,
                                generator=self._generator, epoch=lambda: len(self.history))
        self._amp = s.mixed_precision and self.device.type == "cuda"
        self._scaler = torch.amp.GradScaler("cuda", enabled=self._amp)
        self._loss = nn.CrossEntropyLoss(label_smoothing=s.label_smoothing)

    def __repr__(self) -> str:
        return (f"Learner(backbone={self.settings.backbone!r}, weights={self.weights_source!r}, "
                f"classes={len(self.classes)}, input_size={self.data_config.input_size}, "
                f"device={str(self.device)!r}, epochs={len(self.history)})")

    @property
    def converter(self) -> dict[str, Any] | None:
        """The converter that made the images (from a conversion manifest), if known."""
        return self.split.converter

    # -- the parts' hooks: data, the one train step, validation, the probe ------------------------------
    def _dataset(self, side: str | ImageItems) -> ImageDataset:
        return self._loaders.dataset(side)

    def _train_loader(self) -> DataLoader[tuple[torch.Tensor, int]]:
        return self._loaders.train_loader()

    def _mix(self, n: int) -> tuple[float, torch.Tensor | None]:
        return step.mixup_draw(self.settings.mixup, n, self._generator, self.device)

    def _train_step(self, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
                    finite: bool = False) -> torch.Tensor:
        return step.train_step(self.model, self._loss, optimizer, self._scaler, x, y, device=self.device,
                               amp=self._amp, mix=self._mix, finite=finite)

    def _validate(self) -> tuple[float, dict[str, float], np.ndarray | None]:
        return scoring.validation(self)

    def _seconds_per_step(self, steps: int = 3) -> float:
        return trial.seconds_per_step(self, steps)

    # -- predictions (any2img.learn.scoring) ------------------------------------------------------------
    def get_preds(self, split: str | ImageItems = "valid", *, tta: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities ``(N, n_classes)`` and targets ``(N,)`` on a side, or on given items.

        ``tta`` > 0 averages in that many pictures drawn from perturbed raw
        signals; None: :attr:`tta` (the setting, or what its default
        became); see :func:`~any2img.learn.scoring.predictions`.
        """
        with self._rng:
            return scoring.predictions(self, split, tta)

    def evaluate(self, split: str | ImageItems = "valid") -> dict[str, float]:
        """Loss and metrics on a side, kept in :attr:`evaluations`; see :func:`~any2img.learn.scoring.evaluate`."""
        with self._rng:
            return scoring.evaluate(self, split)

    def interpret(self, split: str | ImageItems = "valid") -> Any:
        """An :class:`~any2img.learn.interpret.Interpretation` of the predictions on a side."""
        return scoring.interpretation(self, split)

    # -- training (any2img.learn.plans, any2img.learn.loop) ---------------------------------------------
    def fit_one_cycle(self, epochs: int, lr: float = DEFAULT_LR, *, lr_mult: float = 1.0,
                      checkpoint_dir: Folder | None = None, resume: bool = False,
                      on_epoch_end: EpochHook | None = None) -> Records:
        """Train every layer for ``epochs`` epochs, one-cycle to a peak ``lr``; return this run's records.

        Parameters
        ----------
        epochs : int
        lr : float, default=2e-3
            Peak rate of the head; the body's groups peak at ``lr / lr_mult`` rising geometrically to ``lr``.
        lr_mult : float, default=1.0
            1 trains all layers at the same rate.
        checkpoint_dir : path, optional
            Write a checkpoint there after each epoch.
        resume : bool, default=False
            Continue from the checkpoint in ``checkpoint_dir`` (same arguments) at the epoch after the
            last one saved: the result is the same as an uninterrupted run's.
        on_epoch_end : callable, optional
            ``f(learner, record)`` after each epoch (and its checkpoint); returning True stops the run.
        """
        phase = plans.one_phase("one_cycle", epochs, lr, lr_mult)
        return self._fit([phase], "fit_one_cycle", checkpoint_dir, resume, on_epoch_end)

    def fit(self, epochs: int, lr: float = DEFAULT_LR, *, schedule: str = "one_cycle", lr_mult: float = 1.0,
            checkpoint_dir: Folder | None = None, resume: bool = False,
            on_epoch_end: EpochHook | None = None) -> Records:
        """Train every layer; ``schedule`` is ``"one_cycle"`` or ``"constant"``; see :meth:`fit_one_cycle`."""
        phase = plans.fit_phase(epochs, lr, lr_mult, schedule)
        return self._fit([phase], "fit", checkpoint_dir, resume, on_epoch_end)

    def fine_tune(self, epochs: int | None = None, base_lr: float = DEFAULT_LR, freeze_epochs: int = 0, *,
                  lr_mult: float = 1.0, time_budget: float | str | None = None, checkpoint_dir: Folder | None = None,
                  resume: bool = False, on_epoch_end: EpochHook | None = None) -> Records:
        """Fine-tune the pretrained backbone: by default every layer from the first epoch, one-cycle at 2e-3.

        The measured recipe (see :func:`~any2img.learn.plans.fine_tune_phases`): pictures of signals are not photos.

        Parameters
        ----------
        epochs : int, optional
            Epochs with all layers training; default: :attr:`budget`'s (see :mod:`any2img.learn.budget`).
        base_lr : float, default=2e-3
            Peak rate of the head.
        freeze_epochs : int, default=0
            Epochs training the head alone first, at ``base_lr`` (0, the measured best: none).
        lr_mult : float, default=1.0
            The body's first layer group peaks at ``base_lr / lr_mult``, later ones rise geometrically to it.
        time_budget : float or str, optional
            Seconds (or ``"10m"``, ``"90s"``, ``"1.5h"``): a timed probe of a few steps (leaving no trace)
            shrinks the epochs to fit, and the run stops after the epoch that crosses it.
        checkpoint_dir, resume, on_epoch_end
            See :meth:`fit_one_cycle`.
        """
        with self._rng:  # the probe of a time budget steps too
            self.budget, seconds = plans.fine_tune_budget(self.budget, epochs, time_budget, checkpoint_dir, resume,
                                                          self._seconds_per_step)
        if self.settings.verbose:
            print(self.budget.describe())
        phases = plans.fine_tune_phases(self.budget.epochs, base_lr, freeze_epochs, lr_mult)
        return self._fit(phases, "fine_tune", checkpoint_dir, resume, on_epoch_end, deadline=seconds)

    def _fit(self, phases: list[Phase], kind: str, checkpoint_dir: Folder | None, resume: bool,
             on_epoch_end: EpochHook | None, deadline: float | None = None) -> Records:
        loop = TrainingLoop(self, phases, kind, checkpoint_dir=checkpoint_dir, resume=check_bool("resume", resume),
                            on_epoch_end=on_epoch_end, deadline=deadline)
        with self._rng:
            return loop.run()

    def lr_find(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100, *,
                plot: Folder | None = None) -> LRFindResult:
        """Try rising rates for ``num_it`` steps and suggest one, leaving no trace.

        See :func:`~any2img.learn.trial.lr_find` (``plot``: save the curve there as PNG).
        """
        with self._rng:
            return trial.lr_find(self, start_lr, end_lr, num_it, plot=plot)

    # -- checkpoints and export (any2img.learn.resume, any2img.learn.export) ----------------------------
    def save_checkpoint(self, path: Folder) -> Path:
        """Save the model, history and random states to the folder ``path`` (no pickle); see :meth:`load_checkpoint`."""
        with self._rng:
            return save_learner(self, path)

    def load_checkpoint(self, path: Folder) -> Learner:
        """Restore what :meth:`save_checkpoint` (or a run's checkpoint) saved; return self."""
        with self._rng:
            load_learner(self, path)
        return self

    def config(self) -> dict[str, Any]:
        """The resolved settings of this learner (JSON-able), for records and artifacts."""
        return exporting.training_config(self)

    def export(self, path: Folder) -> Path:
        """Write the model to the folder ``path``; ``any2img.load(path)`` reads it.

        See :func:`~any2img.learn.export.export` (which metrics go with it, and the split's fingerprints).
        """
        return exporting.export(self, path)


Learner.__signature__ = signature(split=True)  # type: ignore[attr-defined]  # what __init__ takes, for help()
