"""One model made of several: the same raw input drawn by several converters, probabilities averaged.

An ensemble over representations (say GASF, recurrence and line plot of one
series) often beats each of its members, because each picture shows the
signal differently. :func:`write_ensemble` bundles exported models into one
folder (``ensemble.json`` plus a copy of each member's ``model.json`` and
``weights.safetensors`` under ``members/``), and :func:`any2img.load` returns
an :class:`EnsemblePredictor` for it, which answers like a
:class:`~any2img.predict.Predictor`: every member converts the raw input with
its own converter, and the answer is the (weighted) mean of the members'
class probabilities. Nothing is unpickled, and every member path must
resolve inside the ensemble's folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from any2img.errors import ArtifactError, InputError, ParameterError

__all__ = ["ENSEMBLE_JSON", "EnsemblePrediction", "EnsemblePredictor", "is_ensemble", "load_ensemble",
           "read_ensemble", "write_ensemble"]

ENSEMBLE_JSON = "ensemble.json"
FORMAT = "any2img-ensemble"
FORMAT_VERSION = 1
#: The files of a member model that an ensemble keeps (nothing else is copied).
MEMBER_FILES = ("model.json", "weights.safetensors")
_KEYS = {"format", "format_version", "classes", "members", "combine", "created"}
_MEMBER_KEYS = {"path", "converter", "weight"}


def is_ensemble(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an ensemble folder (it holds ``ensemble.json``)."""
    return (Path(path) / ENSEMBLE_JSON).is_file()


def _kind_of(meta: dict[str, Any]) -> str:
    """What raw input a member reads: its converter's kind, or ``"image"`` for a model of plain pictures."""
    from any2img.registry import get_converter

    spec = meta.get("converter")
    if not spec:
        return "image"
    return get_converter(spec["name"], **(spec.get("params") or {})).kind


def write_ensemble(
    members: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    weights: Sequence[float] | None = None,
) -> Path:
    """Bundle exported models into one ensemble folder.

    Parameters
    ----------
    members : sequence of path
        Two or more model folders written by ``any2img train`` /
        ``Learner.export``, with the same classes, whose converters read
        the same kind of input (all audio, all series, ...). Each is
        checked as :func:`any2img.load` checks it (schema, weights hash).
    out : path
        The ensemble folder to create; it must not exist or be empty.
    weights : sequence of float, optional
        One positive weight per member (default: equal weights).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ArtifactError
        A member is not a valid model folder, or the classes or input kinds differ.
    ParameterError
        Fewer than two members, a bad weight, or ``out`` is not empty.
    """
    from any2img.artifact import read_artifact

    paths = [Path(m) for m in members]
    if len(paths) < 2:
        raise ParameterError(f"an ensemble needs at least 2 member models (got {len(paths)}).")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise ParameterError(f"'weights' must give one weight per member ({len(paths)}) (got {len(weights)}).")
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise ParameterError(f"'weights' must be finite and > 0 (got {weights}).")
    dst = Path(out)
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise ParameterError(f"'out' must be a new or empty folder (got {dst}, which exists).")
    metas = [read_artifact(p)[0] for p in paths]
    classes = list(metas[0]["classes"])
    kinds = [_kind_of(m) for m in metas]
    for path, meta, kind in zip(paths, metas, kinds):
        if sorted(meta["classes"]) != sorted(classes):
            raise ArtifactError(f"{path}: its classes {meta['classes']} differ from {paths[0]}'s {classes}; "
                                "the members of an ensemble must know the same classes.")
        if kind != kinds[0]:
            raise ArtifactError(f"{path}: it reads {kind} input but {paths[0]} reads {kinds[0]}; the members of "
                                "an ensemble must read the same raw input.")
    entries = []
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dst.name}-", dir=dst.parent))  # renamed into place at the end
    try:
        for i, (path, meta, weight) in enumerate(zip(paths, metas, weights)):
            name = (meta.get("converter") or {}).get("name", "image")
            rel = f"members/{i:02d}-{name}"
            (staging / rel).mkdir(parents=True)
            for file in MEMBER_FILES:
                shutil.copyfile(path / file, staging / rel / file)
            entries.append({"path": rel, "converter": name, "weight": weight})
        spec = {"format": FORMAT, "format_version": FORMAT_VERSION, "classes": classes, "members": entries,
                "combine": "weighted mean of the members' class probabilities",
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (staging / ENSEMBLE_JSON).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        if dst.exists():
            dst.rmdir()  # empty, checked above
        staging.replace(dst)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dst


def read_ensemble(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``ensemble.json``: known keys, unique classes, member folders inside the ensemble.

    Raises
    ------
    ArtifactError
        Naming the file and the rule broken.
    """
    folder = Path(path)
    file = folder / ENSEMBLE_JSON
    try:
        spec = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{file}: missing; an ensemble folder holds {ENSEMBLE_JSON}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{file}: not valid JSON ({exc}).") from exc

    def fail(message: str) -> ArtifactError:
        return ArtifactError(f"{file}: {message}")

    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise fail(f"'format' must be {FORMAT!r}.")
    if spec.get("format_version") != FORMAT_VERSION:
        raise fail(f"'format_version' must be {FORMAT_VERSION} (got {spec.get('format_version')!r}).")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise fail(f"unknown keys {unknown}.")
    classes = spec.get("classes")
    if (not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes)
            or len(set(classes)) != len(classes)):
        raise fail(f"'classes' must be a non-empty list of unique strings (got {classes!r}).")
    members = spec.get("members")
    if not isinstance(members, list) or len(members) < 2:
        raise fail("'members' must list at least 2 member models.")
    root = folder.resolve()
    for m in members:
        if not isinstance(m, dict) or set(m) - _MEMBER_KEYS or not isinstance(m.get("path"), str):
            raise fail(f"each member must be {{'path', 'converter', 'weight'}} (got {m!r}).")
        weight = m.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (math.isfinite(weight)
                                                                                    and weight > 0):
            raise fail(f"member {m['path']!r}: 'weight' must be finite and > 0 (got {weight!r}).")
        target = (folder / m["path"]).resolve()
        if not target.is_relative_to(root) or target == root:
            raise fail(f"member path {m['path']!r} leaves the ensemble folder; members must lie inside it.")
    return spec


@dataclass
class EnsemblePrediction:
    """The ensemble's answer for one input, with each member's.

    Attributes
    ----------
    label, probability, probabilities, source
        As :class:`~any2img.predict.Prediction`: the (weighted) mean over members.
    window_probabilities : ndarray of shape (n_members, n_classes)
        Each member's answer (already the mean over its windows), in the
        ensemble's class order.
    members : list of Prediction
        The members' own answers, with their per-window scores.
    """

    label: str
    probability: float
    probabilities: dict[str, float]
    window_probabilities: np.ndarray
    members: list[Any] = field(default_factory=list)
    source: str = "<array>"

    def to_dict(self, *, windows: bool = False) -> dict[str, Any]:
        """JSON-able form; each member's answer (and its windows when ``windows``) under ``"members"``."""
        return {"source": self.source, "label": self.label, "probability": self.probability,
                "probabilities": self.probabilities, "n_members": len(self.members),
                "members": [m.to_dict(windows=windows) for m in self.members]}


class EnsemblePredictor:
    """Several predictors that answer as one (see :func:`write_ensemble`).

    Parameters
    ----------
    members : sequence of Predictor
    classes : sequence of str
        The ensemble's class order.
    weights : sequence of float, optional
        Default: equal.
    names : sequence of str, optional
        Member names (their converters), for messages and reports.
    """

    def __init__(self, members: Sequence[Any], classes: Sequence[str], weights: Sequence[float] | None = None,
                 names: Sequence[str] | None = None) -> None:
        self.members = list(members)
        self.classes = list(classes)
        w = np.ones(len(self.members)) if weights is None else np.asarray(weights, dtype=np.float64)
        self.weights = w / w.sum()
        self.names = list(names) if names is not None else [f"member{i}" for i in range(len(self.members))]
        for name, m in zip(self.names, self.members):
            if sorted(m.classes) != sorted(self.classes):
                raise ArtifactError(f"ensemble member {name}: classes {m.classes} differ from {self.classes}.")

    def _combine(self, answers: Sequence[Any]) -> EnsemblePrediction:
        rows = np.array([[a.probabilities[c] for c in self.classes] for a in answers])
        mean = self.weights @ rows
        best = int(np.argmax(mean))
        return EnsemblePrediction(label=self.classes[best], probability=float(mean[best]),
                                  probabilities={c: float(p) for c, p in zip(self.classes, mean)},
                                  window_probabilities=rows, members=list(answers), source=answers[0].source)

    def predict(self, x: Any, *, is_image: bool = False) -> EnsemblePrediction:
        """Predict one input (a raw file or signal, as :meth:`Predictor.predict` takes)."""
        return self._combine([m.predict(x, is_image=is_image) for m in self.members])

    def predict_file(self, path: str | os.PathLike[str]) -> list[EnsemblePrediction]:
        """Predict every record of a file; every member must read the same records from it."""
        per_member = [m.predict_file(path) for m in self.members]
        counts = {len(p) for p in per_member}
        if len(counts) != 1:
            raise InputError(f"the ensemble's members read different numbers of records from the file "
                             f"({dict(zip(self.names, map(len, per_member)))})", path=path)
        return [self._combine(answers) for answers in zip(*per_member)]

    def predict_many(self, inputs: Iterable[Any], *, is_image: bool = False) -> list[EnsemblePrediction]:
        """Predict many inputs; files with several records give several answers."""
        from any2img.predict import predict_each

        return predict_each(inputs, partial(self.predict, is_image=is_image), self.predict_file)

def member_folders(path: str | os.PathLike[str], spec: dict[str, Any] | None = None) -> list[tuple[Path, str, float]]:
    """``(folder, converter name, weight)`` of each member of an ensemble folder (``spec``: its read ensemble.json)."""
    spec = read_ensemble(path) if spec is None else spec
    return [(Path(path) / m["path"], str(m.get("converter", "")), float(m.get("weight", 1.0)))
            for m in spec["members"]]


def load_ensemble(path: str | os.PathLike[str], *, device: str = "auto", batch_size: int = 64) -> EnsemblePredictor:
    """Load an ensemble folder; each member is loaded and checked as :func:`any2img.load` does."""
    from any2img.predict import load_model

    spec = read_ensemble(path)
    found = member_folders(path, spec)
    members = [load_model(folder, device=device, batch_size=batch_size) for folder, _, _ in found]
    return EnsemblePredictor(members, spec["classes"], [w for _, _, w in found], [n for _, n, _ in found])
