"""Prediction from what the user has: a raw file, a signal, an array or an image.

:func:`load` reads an exported model directory (``weights.safetensors`` +
``model.json``, never unpickled) and returns a :class:`Predictor`. The
predictor runs the *same* converter (with the same parameters and windowing)
that made the training images, so ``predictor.predict("clip.wav")`` works on
a model trained from mel images with no manual conversion. A signal that
yields several windows gets one answer from the mean of the window
probabilities; the per-window scores stay available.

This module and the CLI are the only places where converters and the model
meet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from any2img.artifact import Artifact, load_artifact, recorded_augment_options, recorded_tta
from any2img.converter import Converter, Record
from any2img.data.items import IMAGE_EXTENSIONS, load_image
from any2img.data.transforms import DataConfig, preprocess_batch
from any2img.errors import ArtifactError, InputError, ParameterError
from any2img.registry import get_converter

if TYPE_CHECKING:
    from any2img.ensemble import EnsemblePredictor

__all__ = ["Prediction", "Predictor", "load", "load_model", "predictor_from_artifact"]


@dataclass
class Prediction:
    """The answer for one input.

    Attributes
    ----------
    label : str
        The class with the highest (mean) probability.
    probability : float
        Its probability.
    probabilities : dict of str to float
        Every class's probability (mean over windows).
    window_probabilities : ndarray of shape (n_windows, n_classes)
        Per-window scores, in window order.
    windows : list of dict
        Where each window sits in the input (index, start, stop, unit).
    source : str
        The input's name (file path, or ``"<array>"``), plus ``[record]`` for
        one row of a table.
    """

    label: str
    probability: float
    probabilities: dict[str, float]
    window_probabilities: np.ndarray
    windows: list[dict[str, Any]] = field(default_factory=list)
    source: str = "<array>"

    def to_dict(self, *, windows: bool = False) -> dict[str, Any]:
        """JSON-able form; per-window scores only when ``windows`` is True."""
        out: dict[str, Any] = {
            "source": self.source,
            "label": self.label,
            "probability": self.probability,
            "probabilities": self.probabilities,
            "n_windows": int(self.window_probabilities.shape[0]),
        }
        if windows:
            out["windows"] = [
                {**w, "probabilities": dict(zip(self.probabilities, map(float, p)))}
                for w, p in zip(self.windows, self.window_probabilities)
            ]
        return out


class Predictor:
    """A trained model plus the converter that feeds it.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier, in eval mode.
    classes : list of str
        Class names in output order.
    data_config : DataConfig
        Input size and normalisation of the model.
    converter : Converter or None
        The converter the training images came from; ``None`` when the model
        was trained on plain pictures.
    meta : dict
        The artifact's ``model.json``.
    batch_size : int, default=64
        Images per forward pass.
    device : str, default="auto"
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        classes: Sequence[str],
        data_config: DataConfig,
        converter: Converter | None = None,
        meta: dict[str, Any] | None = None,
        *,
        batch_size: int = 64,
        device: str = "auto",
    ) -> None:
        from any2img.learn.backbones import place_model
        from any2img.learn.inference import resolve_device

        self.device = resolve_device(device)
        self.model = place_model(model, self.device).eval()
        self.classes = list(classes)
        self.data_config = data_config
        self.converter = converter
        self.meta = dict(meta or {})
        self.batch_size = batch_size
        #: What draws the pictures, as in training: "numpy" (the converter) or "torch" (its device implementation).
        self.implementation = str((self.meta.get("converter") or {}).get("implementation", "numpy"))
        self._torch_converter: Any = None  # the device implementation, built at the first use
        #: Test-time augmentation passes, as the model was evaluated with (``model.json`` training.tta; 0 before).
        self.tta = recorded_tta(self.meta)
        #: Options of those passes' signal augmentation, as in training (``model.json`` training.augment_options).
        self.augment_options: dict[str, Any] = (converter.check_augment_options(recorded_augment_options(self.meta))
                                                if converter is not None else {})

    # -- images -> probabilities ----------------------------------------
    def predict_images(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Return class probabilities ``(n_images, n_classes)`` for RGB images."""
        images = list(images)
        if not images:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = preprocess_batch(images[start : start + self.batch_size], self.data_config)
                logits = self.model(batch.to(self.device))
                chunks.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        return np.concatenate(chunks)

    # -- raw input -> windows -> images ----------------------------------
    def _pictures(self, windows: Sequence[Any]) -> list[np.ndarray]:
        """The windows' pictures, drawn by the implementation that drew the training pictures."""
        if self.converter is None:
            raise InputError("this model has no converter to draw pictures of raw input with")
        if self.implementation == "torch":  # trained with convert_on="device": the same torch converter and resize
            from any2img.device.registry import device_converter
            from any2img.device.training import device_pictures

            if self._torch_converter is None:  # built once, not per batch of a long recording
                self._torch_converter = device_converter(self.converter)
            return device_pictures(self._torch_converter, windows, self.data_config, self.device)
        return self.converter.convert_batch(windows)

    def _scores_of(self, signal: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Per-window probabilities of a raw signal, converting ``batch_size`` windows at a time.

        Only one batch of pictures exists at once (a long recording's windows
        read their own samples as they are converted), so memory does not
        grow with the length of the input.
        """
        if self.converter is None:
            raise InputError(
                "this model was trained on plain images (no converter is recorded in its model.json); "
                "give it an image file or an (H, W, 3) array with is_image=True"
            )
        windows = self.converter.segment(signal)
        if not windows:
            raise InputError("the input yields no window with the model's segmentation parameters")
        chunks = []
        for i in range(0, len(windows), self.batch_size):
            batch = windows[i : i + self.batch_size]
            probs = self.predict_images(self._pictures(batch)).astype(np.float64)
            for k in range(1, self.tta + 1):  # the draws any2img.learn.inference.tta_mean makes: seed k per window
                probs += self.predict_images([self.converter.convert(
                    self.converter.augment_signal(w.data, np.random.default_rng(k), **self.augment_options))
                    for w in batch])
            chunks.append((probs / (self.tta + 1)).astype(np.float32))
        return np.concatenate(chunks), [w.describe() for w in windows]

    def _answer(self, probs: np.ndarray, windows: list[dict[str, Any]], source: str) -> Prediction:
        if not np.isfinite(probs).all():
            raise InputError("the model gave non-finite probabilities (NaN or infinite); its weights or its "
                             "input are not usable", path=source)
        mean = probs.mean(axis=0)
        best = int(np.argmax(mean))
        return Prediction(
            label=self.classes[best],
            probability=float(mean[best]),
            probabilities={c: float(p) for c, p in zip(self.classes, mean)},
            window_probabilities=probs,
            windows=windows,
            source=source,
        )

    def records(self, path: str | os.PathLike[str]) -> list[Record]:
        """Read the records of a raw file with the model's converter."""
        if self.converter is None:
            raise InputError("this model has no converter to read raw files with", path=path)
        if not self.converter.accepts(path):
            raise InputError(
                f"converter '{self.converter.name}' does not read {Path(path).suffix or 'suffix-less'} files "
                f"(it reads: {', '.join(self.converter.extensions) or 'see its documentation'})",
                path=path,
            )
        return list(self.converter.read_records(path))

    def predict(self, x: Any, *, is_image: bool = False) -> Prediction:
        """Predict one input.

        Parameters
        ----------
        x : path, ndarray or signal object
            A raw file the model's converter reads (``.wav``, a series
            ``.csv``, a mouse log...), an image file, a raw signal (array or
            the converter's signal object), or an image array with
            ``is_image=True``.
        is_image : bool, default=False
            Treat an array as a finished picture, not as a raw signal.

        Returns
        -------
        Prediction
        """
        if isinstance(x, (str, os.PathLike)):
            predictions = self.predict_file(x)
            if len(predictions) != 1:
                raise InputError(
                    f"the file holds {len(predictions)} records (a table?); use predict_file() for one answer "
                    "per record",
                    path=x,
                )
            return predictions[0]
        if is_image:
            return self._answer(self.predict_images([np.asarray(x)]), [{"index": 0}], "<image>")
        return self._answer(*self._scores_of(x), "<array>")

    def predict_file(self, path: str | os.PathLike[str]) -> list[Prediction]:
        """Predict every record of a file (one for most files, one per row of a table)."""
        name = str(path)
        if not Path(path).exists():
            raise InputError("no such file", path=path)
        if Path(path).suffix.lower() in IMAGE_EXTENSIONS and (
            self.converter is None or self.converter.kind != "image"
        ):
            return [self._answer(self.predict_images([load_image(path)]), [{"index": 0}], name)]
        out = []
        for record in self.records(path):
            source = f"{name}[{record.key}]" if record.key else name
            out.append(self._answer(*self._scores_of(record.signal), source))
        return out

    def explain(self, x: Any, *, method: str = "gradcam", target: str | None = None, max_windows: int = 3,
                layer: str | None = "auto") -> Any:
        """Explain the answer for one input in the signal's own terms.

        Grad-CAM (``method="occlusion"``: occlusion; ``"both"``: both) on the
        picture the model saw, mapped back through the converter onto the
        recording's seconds and frequencies, the series' time steps or the
        mouse path's events; or, with ``method="signal"``, occlusion of the
        raw input itself (stretches of steps interpolated over, of frames
        silenced, of events dropped, the rest converted again), scored per
        step, frame or event. See :func:`any2img.explain.explain`.

        Parameters
        ----------
        x : path or signal
            As :meth:`predict` takes (a file must hold one record; see
            :func:`any2img.explain.explain_file` for tables).
        method, target, max_windows, layer
            See :func:`any2img.explain.explain` (``layer="auto"``, the default:
            a finer Grad-CAM stage when the last one is too coarse for the input;
            ``"last"``: the last stage always).

        Returns
        -------
        Explanation
            ``explanation.save(folder)`` writes the figure, CSV and JSON.
        """
        from any2img.explain import explain, explain_file

        if isinstance(x, (str, os.PathLike)):
            found = explain_file(self, x, method=method, target=target, max_windows=max_windows, layer=layer)
            if len(found) != 1:
                raise InputError(f"the file holds {len(found)} records (a table?); use "
                                 "any2img.explain.explain_file() for one explanation per record", path=x)
            return found[0]
        return explain(self, x, method=method, target=target, max_windows=max_windows, layer=layer)

    def predict_many(self, inputs: Iterable[Any], *, is_image: bool = False) -> list[Prediction]:
        """Predict many inputs; files with several records give several answers."""
        return predict_each(inputs, partial(self.predict, is_image=is_image), self.predict_file)


P = TypeVar("P")


def predict_each(inputs: Iterable[Any], predict: Callable[[Any], P],
                 predict_file: Callable[[str | os.PathLike[str]], list[P]]) -> list[P]:
    """Answers for many inputs: ``predict_file`` for each path (one answer per record), ``predict`` for the rest."""
    out: list[P] = []
    for x in inputs:
        if isinstance(x, (str, os.PathLike)):
            out.extend(predict_file(x))
        else:
            out.append(predict(x))
    return out


def load(path: str | os.PathLike[str], *, device: str = "auto",
         batch_size: int = 64) -> Predictor | EnsemblePredictor:
    """Load an exported model directory as a :class:`Predictor` (an ensemble folder: an ``EnsemblePredictor``).

    Nothing is unpickled: the weights are safetensors and the rest JSON. A
    tampered or mismatched artifact raises :class:`~any2img.errors.ArtifactError`.
    A folder written by :func:`any2img.ensemble.write_ensemble` loads as an
    :class:`~any2img.ensemble.EnsemblePredictor`, which answers alike.

    Examples
    --------
    >>> predictor = load("fsdd-mel-model")  # doctest: +SKIP
    >>> predictor.predict("7_theo_3.wav").label  # doctest: +SKIP
    '7'
    """
    from any2img.ensemble import is_ensemble, load_ensemble

    if is_ensemble(path):
        return load_ensemble(path, device=device, batch_size=batch_size)
    return load_model(path, device=device, batch_size=batch_size)


def load_model(path: str | os.PathLike[str], *, device: str = "auto", batch_size: int = 64) -> Predictor:
    """Load one exported model directory (not an ensemble) as a :class:`Predictor`; see :func:`load`."""
    if batch_size < 1:
        raise ParameterError(f"'batch_size' must be an int >= 1 (got {batch_size!r}).")
    return predictor_from_artifact(load_artifact(path), path, device=device, batch_size=batch_size)


def checked_augment_options(path: str | os.PathLike[str], meta: dict[str, Any],
                            converter: Converter | None = None) -> dict[str, Any]:
    """The augmentation options a model folder records, checked against its recorded converter's rules.

    Parameters
    ----------
    path : path-like
        The model folder (named in the error).
    meta : dict
        Its ``model.json``.
    converter : Converter, optional
        The recorded converter, if already built; else built from ``meta``.

    Returns
    -------
    dict
        The options, ``{}`` where the model records no converter.

    Raises
    ------
    ArtifactError
        Naming ``model.json`` and the option whose value breaks its rule.
    """
    spec = meta.get("converter") or {}
    if converter is None and not spec:
        return {}
    try:
        if converter is None:
            converter = get_converter(spec["name"], **spec.get("params", {}))
        return converter.check_augment_options(recorded_augment_options(meta))
    except ParameterError as exc:
        raise ArtifactError(f"{Path(path) / 'model.json'}: 'training.augment_options' is not valid for the "
                            f"recorded converter: {exc}") from exc


def predictor_from_artifact(art: Artifact, path: str | os.PathLike[str], *, device: str = "auto",
                            batch_size: int = 64) -> Predictor:
    """The :class:`Predictor` of an already loaded model folder ``path`` (its recorded converter checked)."""
    model, data_config, meta = art.model, art.data_config, art.meta
    spec = meta.get("converter")
    converter: Converter | None = None
    if spec:
        try:
            converter = get_converter(spec["name"], **spec.get("params", {}))  # a declared converter checks here
            converter.check_params()
        except ParameterError as exc:
            raise ArtifactError(f"{Path(path) / 'model.json'}: the recorded converter's parameters are not "
                                f"valid: {exc}") from exc
        checked_augment_options(path, meta, converter)
    return Predictor(model, meta["classes"], data_config, converter, meta, batch_size=batch_size, device=device)
