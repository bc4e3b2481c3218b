"""Training on several processes with PyTorch's own machinery: ``torchrun`` + DistributedDataParallel.

``torchrun --nproc_per_node N -m any2img train ...`` starts N copies of the
command; each finds its rank in the environment torchrun sets (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and
:func:`init_from_env` joins them in one process group (``nccl`` on CUDA,
``gloo`` on CPU). From then on the :class:`~any2img.learn.learner.Learner`
of each process:

* draws its training batches from a :class:`DistributedSampler` whose epoch
  is the Learner's epoch (so a resumed run sees the same order), each rank
  taking ``batch_size / N`` items of every global batch of ``batch_size``;
* steps through a ``DistributedDataParallel`` view of its model (gradients
  averaged over the ranks in the backward pass), while the Learner's own
  ``model`` stays the plain module whose ``state_dict`` is exported;
* averages the training loss over the ranks and computes validation on a
  shard per rank, gathered in order, so every rank sees the same metrics and
  takes the same decisions (model selection, early stopping, time budget);
* writes checkpoints and the exported model on rank 0 only.

With one global batch and one seed, N processes follow the optimiser path of
one process with the same global batch through the same sampler (up to the
order of floating-point sums), as long as the model has no BatchNorm (whose
statistics DDP keeps per rank) and no training-time randomness (dropout,
augmentation) that depends on which rank draws it.

Nothing here is active unless a process group is initialised: a plain run
never touches ``torch.distributed``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, DistributedSampler, Subset

from any2img.errors import ParameterError

__all__ = [
    "EpochSampler",
    "agree_any",
    "agree_max",
    "barrier",
    "init_from_env",
    "is_active",
    "is_rank0",
    "launched_by_torchrun",
    "local_device",
    "mean_over_ranks",
    "rank",
    "sharded_logits",
    "shutdown",
    "train_sampling",
    "world_size",
    "wrap",
]

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def launched_by_torchrun() -> bool:
    """True when the environment holds what ``torchrun`` sets for each process."""
    return all(name in os.environ for name in _ENV)


def is_active() -> bool:
    """True when a process group is initialised (this process is one of several ranks)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_active() else 0


def world_size() -> int:
    """The number of processes (1 without a process group)."""
    return dist.get_world_size() if is_active() else 1


def is_rank0() -> bool:
    """True on the process that writes checkpoints, artifacts and reports."""
    return rank() == 0


def local_device(device: str) -> str:
    """The device of this rank: ``cuda:LOCAL_RANK`` for ``"auto"``/``"cuda"`` on a CUDA machine under torchrun."""
    if not launched_by_torchrun() or device not in ("auto", "cuda") or not torch.cuda.is_available():
        return device
    return f"cuda:{int(os.environ['LOCAL_RANK'])}"


def init_from_env(device: str = "auto", *, timeout_s: float = 1800.0) -> bool:
    """Join the process group torchrun described in the environment; return True when distributed.

    Does nothing (returns False) outside torchrun. The backend is ``nccl``
    when this rank trains on CUDA, else ``gloo`` (CPU, one machine or many).
    """
    if not launched_by_torchrun():
        return False
    if is_active():
        return True
    if not dist.is_available():  # pragma: no cover - builds of torch without distributed support
        raise ParameterError("this build of torch has no torch.distributed; run without torchrun.")
    _die_with_launcher()
    chosen = local_device(device)
    cuda = chosen.startswith("cuda")
    if cuda:
        torch.cuda.set_device(torch.device(chosen))
    dist.init_process_group(backend="nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout_s))
    return True


def _die_with_launcher() -> None:
    """Linux: this rank gets SIGKILL when its torchrun agent dies, so no orphan rank waits on a dead store forever.

    ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, as conversion workers do; torchrun
    starts its workers from its main thread, which lives as long as the agent.
    (No check of the parent's pid afterwards: in a container torchrun may
    itself be pid 1.)
    """
    from any2img.processes import die_with_parent

    die_with_parent()


def barrier() -> None:
    """Wait for every rank (no-op without a process group)."""
    if is_active():
        dist.barrier()


def shutdown(*, wait: bool = True) -> None:
    """Leave the process group, after every rank got here when ``wait`` (no-op without a group).

    ``wait=False`` is for a run that is failing: a rank that died cannot
    reach a barrier, and torchrun restarts the others (``--max-restarts``),
    which then resume from the last checkpoint.
    """
    if is_active():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


class EpochSampler(DistributedSampler):  # type: ignore[type-arg]
    """A :class:`DistributedSampler` whose epoch is read from the learner each time it is iterated.

    ``set_epoch`` is then never forgotten, and a resumed run, whose
    learner's history says where it stands, shuffles as the uninterrupted
    run did.
    """

    def __init__(self, dataset: Dataset[Any], epoch_of: Callable[[], int], *, seed: int) -> None:
        super().__init__(dataset, num_replicas=world_size(), rank=rank(), shuffle=True, seed=seed)
        self._epoch_of = epoch_of

    def __iter__(self) -> Iterator[int]:
        self.set_epoch(self._epoch_of())
        return super().__iter__()


def train_sampling(dataset: Dataset[Any], batch_size: int, seed: int,
                   epoch_of: Callable[[], int]) -> tuple[EpochSampler | None, int]:
    """The sampler and per-rank batch size of a training loader: ``(None, batch_size)`` without a group.

    Raises
    ------
    ParameterError
        ``batch_size`` (the global batch) is not a multiple of the number
        of processes.
    """
    if not is_active():
        return None, batch_size
    n = world_size()
    if batch_size % n:
        raise ParameterError(f"the batch size ({batch_size}) is the global batch and must be a multiple of the "
                             f"number of processes ({n}); pass --batch-size accordingly.")
    return EpochSampler(dataset, epoch_of, seed=seed), batch_size // n


_WRAPPED: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], nn.Module]] = weakref.WeakKeyDictionary()


def wrap(model: nn.Module) -> nn.Module:
    """The module to call in a training step: ``model`` itself, or its DistributedDataParallel view.

    The view is built once per set of trainable parameters (a frozen phase
    and an all-layers phase each get theirs). It shares the parameters with
    ``model``, so the learner keeps saving and exporting the plain module.
    """
    if not is_active():
        return model
    key = tuple(id(p) for p in model.parameters() if p.requires_grad)
    cached = _WRAPPED.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    from torch.nn.parallel import DistributedDataParallel

    device = next(model.parameters()).device
    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    _WRAPPED[model] = (key, ddp)
    return ddp


def _all_reduce(values: list[float], op: Any) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=op)
    return [float(v) for v in tensor.cpu()]


def mean_over_ranks(total: float, count: int) -> float:
    """``sum(total) / sum(count)`` over the ranks (``total / count`` without a group)."""
    if is_active():
        total, summed = _all_reduce([total, float(count)], dist.ReduceOp.SUM)
        count = int(summed)
    return total / max(count, 1)


def agree_max(value: float) -> float:
    """The largest ``value`` over the ranks: one timing every rank plans with."""
    return _all_reduce([value], dist.ReduceOp.MAX)[0] if is_active() else value


def agree_any(flag: bool) -> bool:
    """True on every rank when it is True on one (a stop decision all ranks take together)."""
    return bool(_all_reduce([float(flag)], dist.ReduceOp.MAX)[0]) if is_active() else flag


def sharded_logits(dataset: Dataset[Any], predict: Callable[[Dataset[Any]], tuple[torch.Tensor, torch.Tensor]]
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """``predict(dataset)`` with each rank predicting every N-th item, gathered back in dataset order.

    Without a group this is ``predict(dataset)``. Every rank gets the full
    ``(logits, targets)``.
    """
    if not is_active():
        return predict(dataset)
    n, size, me = len(dataset), world_size(), rank()  # type: ignore[arg-type]
    part = predict(Subset(dataset, range(me, n, size)))
    parts: list[Any] = [None] * size
    dist.all_gather_object(parts, (part[0].cpu(), part[1].cpu()))
    filled = [p for p in parts if p[0].numel()]
    if not filled:
        return part
    classes = filled[0][0].shape[1]
    logits = torch.zeros((n, classes), dtype=filled[0][0].dtype)
    targets = torch.zeros((n,), dtype=torch.int64)
    for r, (lg, tg) in enumerate(parts):
        if lg.numel():
            logits[r::size] = lg
            targets[r::size] = tg
    return logits, targets
