"""The training loop: phases of epochs, the learner's one train step per batch, callbacks that watch.

:class:`TrainingLoop` runs what :meth:`Learner.fine_tune`, ``fit_one_cycle``
and ``fit`` plan: for each :class:`Phase` an optimiser over the layers it
trains, a one-cycle (or constant) schedule and the epochs, each a pass of
``learner._train_step`` over the training batches and one validation. After
each epoch the :class:`~any2img.learn.callbacks.OverfitMonitor` keeps the
best weights (and may stop early), then the callbacks run in order:
:class:`Checkpointer` (the resume state, rank 0 only), :class:`EpochHook`
(the user's ``on_epoch_end``) and :class:`Deadline` (a time budget). At the
end the weights of the epoch the monitor selected are restored.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from any2img.errors import InputError, ParameterError
from any2img.learn import distributed
from any2img.learn.callbacks import EpochTable, OverfitMonitor
from any2img.learn.export import augmentation_record
from any2img.learn.resume import RunState
from any2img.learn.schedule import make_one_cycle, make_optimizer, param_groups

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["Callback", "Checkpointer", "Deadline", "EpochHook", "Phase", "TrainingLoop"]


@dataclass(frozen=True)
class Phase:
    """Epochs trained with one optimiser and schedule.

    ``train_body=False`` trains the head alone (the body frozen); ``lr_mult``
    spreads discriminative rates over the body's layer groups.
    """

    name: str
    epochs: int
    lr: float
    lr_mult: float = 1.0
    train_body: bool = True
    schedule: str = "one_cycle"


class Callback:
    """Watches a run; :meth:`on_epoch_end` returns True to stop it after this epoch."""

    def on_epoch_end(self, loop: TrainingLoop, record: dict[str, Any], stop: bool) -> bool:
        """Called after each epoch with its record and whether the run stops already."""
        return False


class Checkpointer(Callback):
    """Writes the run's resume state (:class:`~any2img.learn.resume.RunState`) to ``folder`` after each epoch."""

    def __init__(self, folder: Path, state: RunState) -> None:
        self.folder, self.state = folder, state

    def on_epoch_end(self, loop: TrainingLoop, record: dict[str, Any], stop: bool) -> bool:
        if distributed.is_rank0():  # under torchrun one writer
            assert loop.optimizer is not None  # set by the phase that trained this epoch
            learn, state = loop.learner, self.state
            state.phase_index, state.phase_epochs_done, state.stopped = loop.phase_index, loop.phase_epoch, stop
            state.history, state.monitor = learn.history[loop.start:], loop.monitor.state()
            state.write(self.folder, model=learn.model, optimizer=loop.optimizer, scheduler=loop.scheduler,
                        scaler=learn._scaler, generator=learn._generator, best=loop.monitor.best_state)
        return False


class EpochHook(Callback):
    """The user's ``on_epoch_end(learner, record)``; returning True stops the run."""

    def __init__(self, hook: Callable[[Learner, dict[str, Any]], Any]) -> None:
        self.hook = hook

    def on_epoch_end(self, loop: TrainingLoop, record: dict[str, Any], stop: bool) -> bool:
        return self.hook(loop.learner, record) is True


class Deadline(Callback):
    """Stops after the epoch that crosses ``seconds`` since the run began (every rank agrees)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.began = time.perf_counter()

    def on_epoch_end(self, loop: TrainingLoop, record: dict[str, Any], stop: bool) -> bool:
        if stop or not distributed.agree_any(time.perf_counter() - self.began > self.seconds):
            return False
        loop.table.note(f"time budget of {self.seconds:.0f}s spent after epoch {record['epoch']}: stopping")
        return True


class TrainingLoop:
    """One run of phases on a learner (see the module docstring).

    Parameters
    ----------
    learner : Learner
    phases : sequence of Phase
    kind : str
        What planned the run (``"fine_tune"``, ...), recorded in the plan.
    checkpoint_dir : path, optional
        Write the resume state there after each epoch.
    resume : bool
        Continue the run whose state ``checkpoint_dir`` holds, if its plan matches.
    on_epoch_end : callable, optional
        ``f(learner, record)``; True stops the run.
    deadline : float, optional
        Seconds the run may take.
    """

    def __init__(self, learner: Learner, phases: Sequence[Phase], kind: str, *,
                 checkpoint_dir: str | os.PathLike[str] | None = None, resume: bool = False,
                 on_epoch_end: Callable[[Learner, dict[str, Any]], Any] | None = None,
                 deadline: float | None = None) -> None:
        self.learner, self.phases = learner, list(phases)
        self.folder = None if checkpoint_dir is None else Path(checkpoint_dir)
        if resume and self.folder is None:
            raise ParameterError("'resume' needs 'checkpoint_dir' (the folder the interrupted run wrote to).")
        asked = learner.settings
        self.plan = {"kind": kind, "phases": [asdict(p) for p in self.phases], "batch_size": learner.batch_size,
                     "seed": asked.seed, "backbone": asked.backbone, "classes": learner.classes,
                     "selection": OverfitMonitor.SELECTION[asked.selection],
                     **augmentation_record(learner)}  # a resumed run must perturb its pictures alike
        self.start = len(learner.history)
        self.monitor = OverfitMonitor(asked.patience, asked.early_stopping, selection=asked.selection)
        self.table = EpochTable(["epoch", "phase", "train_loss", "valid_loss", *asked.metrics, "time"],
                                enabled=asked.verbose)
        self.resumed = RunState.read(self.folder, self.plan) if resume and self.folder is not None else None
        state = self.resumed or RunState(self.plan)
        self.state = state
        self.callbacks: list[Callback] = []
        if self.folder is not None:
            self.callbacks.append(Checkpointer(self.folder, state))
        if on_epoch_end is not None:
            self.callbacks.append(EpochHook(on_epoch_end))
        if deadline is not None:
            self.callbacks.append(Deadline(deadline))
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        self.phase_index = self.phase_epoch = 0

    def _restore(self) -> None:
        learn, resumed = self.learner, self.resumed
        if resumed is None:
            return
        learn.model.load_state_dict(resumed.tensors("model"))
        learn.history[self.start:] = resumed.history
        self.monitor.load_state(resumed.monitor, resumed.tensors("best") or None)
        self.table.note(f"resuming from {self.folder}: {len(resumed.history)} epochs done")

    def run(self) -> list[dict[str, Any]]:
        """Train every phase (or what an interrupted run left of them); return this run's epoch records."""
        learn = self.learner
        if len(learn.split.train) == 0:
            raise InputError("the train side of the split holds no image.")
        if len(learn.split.valid) == 0 and learn.settings.verbose:
            warnings.warn("the split has no validation side: no metrics, no overfitting detection.", stacklevel=4)
        self._restore()
        learn.fits.append(self.plan)
        state, resumed = self.state, self.resumed
        stop = state.stopped
        first = len(self.phases) if stop else state.phase_index  # stopped early: only restore its weights
        for pi in range(first, len(self.phases)):
            skip = state.phase_epochs_done if (resumed is not None and pi == first) else 0
            if skip >= self.phases[pi].epochs:
                state.restore_rng(learn._generator)
                continue
            stop = self._phase(pi, skip, resumed if pi == first else None)
            if stop:
                break
        learn.selected_epoch = None
        monitor = self.monitor
        if monitor.best_state is not None:  # model selection on the validation side
            learn.model.load_state_dict(monitor.best_state)
            learn.selected_epoch = monitor.selected_epoch
            if monitor.selected_epoch != len(learn.history):
                tie = "" if monitor.selected_epoch == monitor.best_epoch else (
                    f", the latest within noise of the lowest, {monitor.best_loss:.4f} at epoch {monitor.best_epoch}")
                loss = next(r["valid_loss"] for r in learn.history if r["epoch"] == monitor.selected_epoch)
                self.table.note(f"selected epoch {monitor.selected_epoch} (valid_loss {loss:.4f}{tie}); "
                                f"its weights are restored")
        self.plan["selected_epoch"] = learn.selected_epoch
        learn._loaders.forget_train()
        return learn.history[self.start:]

    def _phase(self, pi: int, skip: int, resumed: RunState | None) -> bool:
        """Train phase ``pi`` from its epoch ``skip``; return whether the run stops."""
        learn, phase = self.learner, self.phases[pi]
        groups = param_groups(learn.model, phase.lr, lr_mult=phase.lr_mult, train_body=phase.train_body)
        self.optimizer = optimizer = make_optimizer(groups, learn.settings.weight_decay)
        loader = learn._train_loader()
        self.scheduler = make_one_cycle(optimizer, phase.epochs * len(loader)) if phase.schedule == "one_cycle" \
            else None
        if resumed is not None:
            if skip:
                resumed.restore_training(optimizer, self.scheduler, learn._scaler)
            resumed.restore_rng(learn._generator)
        self.table.header()
        for e in range(skip, phase.epochs):
            t0 = time.perf_counter()
            epoch = len(learn.history) + 1
            train_loss = self._train_epoch(loader, f"epoch {epoch} ({phase.name})")
            valid_loss, values, item_losses = learn._validate()
            record = {"epoch": epoch, "phase": phase.name, "train_loss": train_loss, "valid_loss": valid_loss,
                      **values, "lr": max(g["lr"] for g in optimizer.param_groups),
                      "time": time.perf_counter() - t0}
            learn.history.append(record)
            self.table.row(record)
            self.phase_index, self.phase_epoch = pi, e + 1
            stop = self.monitor.update(record, learn.model, None if item_losses is None else item_losses.tolist())
            for callback in self.callbacks:
                stop = callback.on_epoch_end(self, record, stop) or stop
            if stop:
                return True
        return False

    def _train_epoch(self, loader: Any, label: str) -> float:
        """One pass over the training batches; the mean training loss (over every rank)."""
        from tqdm.auto import tqdm

        learn = self.learner
        assert self.optimizer is not None
        learn.model.train()
        total, count = 0.0, 0
        bar = tqdm(loader, desc=label, leave=False, disable=not learn.settings.verbose, file=sys.stderr,
                   dynamic_ncols=True)
        for x, y in bar:
            loss = learn._train_step(self.optimizer, x, y, finite=True)
            if self.scheduler is not None:
                self.scheduler.step()
            total += float(loss) * len(y)
            count += len(y)
            bar.set_postfix(loss=f"{total / count:.4f}")
        bar.close()
        return distributed.mean_over_ranks(total, count)
