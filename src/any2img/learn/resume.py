"""The state of a training run between epochs, and of a learner between runs.

One object instead of ten loose arguments: :class:`RunState` holds the
run's plan and progress (JSON), and :meth:`RunState.write` /
:meth:`RunState.read` move it, with the model, optimiser, schedule, scaler,
random states and best weights, through :mod:`any2img.learn.checkpoint`
(safetensors + JSON, no pickle). :func:`save_learner` and
:func:`load_learner` keep a learner's weights, history and random states
between runs (``Learner.save_checkpoint`` / ``load_checkpoint``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from any2img.errors import InputError, ParameterError
from any2img.learn.checkpoint import (
    CHECKPOINT_JSON,
    Checkpoint,
    capture_rng,
    optimizer_from_parts,
    optimizer_to_parts,
    read_checkpoint,
    restore_rng,
    write_checkpoint,
)

if TYPE_CHECKING:
    from any2img.learn.learner import Learner

__all__ = ["RunState", "load_learner", "save_learner"]


@dataclass
class RunState:
    """Where a run stands: its plan, the phase and epochs done, its history and monitor.

    Attributes
    ----------
    plan : dict
        What the run does (phases, batch size, seed, backbone, classes); a
        checkpoint resumes only a run with the same plan.
    phase_index, phase_epochs_done : int
        The phase in progress and the epochs of it already trained.
    stopped : bool
        The run stopped early (a resume only restores its selected weights).
    history : list of dict
        The run's epoch records so far.
    monitor : dict
        :meth:`~any2img.learn.callbacks.OverfitMonitor.state`.
    """

    plan: dict[str, Any]
    phase_index: int = 0
    phase_epochs_done: int = 0
    stopped: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    monitor: dict[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = field(default=None, repr=False, compare=False)

    @classmethod
    def read(cls, folder: Path, plan: dict[str, Any]) -> RunState | None:
        """The state saved in ``folder`` by a run with the same ``plan``; None when there is none yet.

        Raises
        ------
        ParameterError
            The checkpoint was written by a run with another plan.
        """
        if not (folder / CHECKPOINT_JSON).is_file():
            return None
        ckpt = read_checkpoint(folder)
        if ckpt.meta.get("plan") != plan:
            raise ParameterError(
                f"the checkpoint in {folder} was written by another run ({ckpt.meta.get('plan')}); "
                f"resume with the same arguments, or use another 'checkpoint_dir'."
            )
        m = ckpt.meta
        return cls(plan=plan, phase_index=m["phase_index"], phase_epochs_done=m["phase_epochs_done"],
                   stopped=bool(m.get("stopped")), history=list(m["history"]), monitor=m["monitor"], checkpoint=ckpt)

    def tensors(self, group: str) -> dict[str, torch.Tensor]:
        """A group of the checkpoint's tensors (``"model"``, ``"best"``, ``"optim"``, ``"rng"``)."""
        return {} if self.checkpoint is None else self.checkpoint.group(group)

    def restore_rng(self, generator: torch.Generator) -> None:
        """Put back the random states saved with the checkpoint."""
        if self.checkpoint is not None:
            restore_rng(self.checkpoint.meta["rng"], self.tensors("rng"), generator)

    def restore_training(self, optimizer: torch.optim.Optimizer, scheduler: Any, scaler: Any) -> None:
        """Put back the optimiser, schedule and gradient-scaler states of the phase in progress."""
        if self.checkpoint is None:
            return
        meta = self.checkpoint.meta
        optimizer.load_state_dict(optimizer_from_parts(meta["optimizer"], self.tensors("optim")))
        if scheduler is not None:
            scheduler.load_state_dict(meta["scheduler"])
        if scaler.is_enabled() and meta.get("scaler"):
            scaler.load_state_dict(meta["scaler"])

    def write(self, folder: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
              scaler: Any, generator: torch.Generator, best: dict[str, torch.Tensor] | None) -> None:
        """Save this state with the training objects to ``folder``, atomically."""
        optim_meta, optim_tensors = optimizer_to_parts(optimizer)
        rng_meta, rng_tensors = capture_rng(generator)
        tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
        tensors.update({f"optim/{k}": v for k, v in optim_tensors.items()})
        tensors.update({f"rng/{k}": v for k, v in rng_tensors.items()})
        if best:
            tensors.update({f"best/{k}": v for k, v in best.items()})
        meta = {
            "plan": self.plan, "phase_index": self.phase_index, "phase_epochs_done": self.phase_epochs_done,
            "stopped": self.stopped, "optimizer": optim_meta,
            "scheduler": None if scheduler is None else scheduler.state_dict(), "scaler": scaler.state_dict(),
            "rng": rng_meta, "history": self.history, "monitor": self.monitor,
        }
        write_checkpoint(folder, meta, tensors)


def save_learner(learn: Learner, path: str | os.PathLike[str]) -> Path:
    """Save the model, history, fits, evaluations and random states of ``learn`` to the folder ``path``.

    Call inside the learner's own random state (``with learn._rng``), whose states it saves.
    """
    rng_meta, rng_tensors = capture_rng(learn._generator)
    tensors = {f"model/{k}": v for k, v in learn.model.state_dict().items()}
    tensors.update({f"rng/{k}": v for k, v in rng_tensors.items()})
    meta = {"plan": None, "backbone": learn.settings.backbone, "classes": learn.classes, "history": learn.history,
            "fits": learn.fits, "evaluations": learn.evaluations, "rng": rng_meta}
    return write_checkpoint(path, meta, tensors)


def load_learner(learn: Learner, path: str | os.PathLike[str]) -> None:
    """Restore into ``learn`` what :func:`save_learner` (or a run's checkpoint) saved in ``path``.

    Call inside the learner's own random state (``with learn._rng``), into which it restores.

    Raises
    ------
    InputError
        The checkpoint is for another backbone or other classes.
    """
    ckpt = read_checkpoint(path)
    plan = ckpt.meta.get("plan") or {}
    backbone = ckpt.meta.get("backbone", plan.get("backbone"))
    classes = ckpt.meta.get("classes", plan.get("classes"))
    if backbone != learn.settings.backbone or classes != learn.classes:
        raise InputError(
            f"the checkpoint is for backbone {backbone!r} with classes {classes}, not {learn.settings.backbone!r} with "
            f"{learn.classes}", path=path,
        )
    learn.model.load_state_dict(ckpt.group("model"))
    learn.history = list(ckpt.meta.get("history", []))
    learn.fits = list(ckpt.meta.get("fits", learn.fits))
    learn.evaluations = dict(ckpt.meta.get("evaluations", {}))
    restore_rng(ckpt.meta["rng"], ckpt.group("rng"), learn._generator)
