"""Explanations in the signal's own terms: which seconds, bands, steps or events decided.

:func:`explain` runs the model on an input exactly as prediction does (the
model's own converter, segmentation and preprocessing), computes Grad-CAM
(and occlusion as a model-agnostic check) on the preprocessed picture the
model saw, brings the maps to the converter's picture size, and hands them
to ``converter.relevance`` (:mod:`any2img.relevance`), which maps them back
onto the recording (seconds x Hz), the series (time steps) or the mouse
path (events). ``method="signal"`` instead occludes the raw input itself
(:mod:`any2img.explain_signal`): stretches of steps, frames or events are
removed, the rest drawn again, and the drop scored, so the relevance is in
the signal's coordinates without a picture-to-signal mapping.
:meth:`Explanation.save` writes the figure (:mod:`any2img.explain_plot`),
the numbers as CSV and a JSON summary.

Like :mod:`any2img.predict`, this module joins converters and the model.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from any2img.converter import Converter, Window
from any2img.errors import InputError, ParameterError
from any2img.relevance import PixelRelevance, Relevance

if TYPE_CHECKING:
    from any2img.predict import Predictor

__all__ = ["METHODS", "Explanation", "WindowExplanation", "explain", "explain_file", "half_mass"]

#: The attribution methods: Grad-CAM, occlusion, Grad-CAM with occlusion beside it (on the picture), or
#: occlusion in the signal's own domain (on the raw input, :mod:`any2img.explain_signal`).
METHODS = ("gradcam", "occlusion", "both", "signal")
#: The methods that score the picture's pixels.
IMAGE_METHODS = METHODS[:3]


def half_mass(values: np.ndarray, share: float = 0.5) -> np.ndarray:
    """Mask of the fewest entries that hold ``share`` of the (positive) total, largest first.

    This is what the figures mark as "relevant": the seconds, bands, steps or
    events that together hold half of the relevance.

    Examples
    --------
    >>> half_mass(np.array([0.1, 0.6, 0.2, 0.1])).tolist()
    [False, True, False, False]
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    mask = np.zeros(v.shape, dtype=bool)
    total = v.sum()
    if total <= 0:
        return mask
    order = np.argsort(-v, axis=None, kind="stable")
    cum = np.cumsum(v.ravel()[order])
    k = int(np.searchsorted(cum, share * total - 1e-12)) + 1
    mask.ravel()[order[:k]] = True
    return mask


@dataclass
class WindowExplanation:
    """The explanation of one window of an input.

    Attributes
    ----------
    window : Window
        The window (its data is the raw piece of signal).
    image : ndarray of shape (H, W, 3), uint8
        The converter's picture of the window.
    attribution : ndarray of shape (H, W)
        The map the relevance comes from (Grad-CAM unless ``method`` was
        ``"occlusion"``), at the picture's size, in [0, 1] for Grad-CAM.
        With ``method="signal"`` no map is scored: it is where the picture
        changes (mean absolute change over the colours, scaled to [0, 1])
        when the relevant parts (those holding half the relevance) are
        removed from the signal.
    relevance : Relevance
        ``attribution`` mapped onto the signal by ``converter.relevance``.
    probabilities : ndarray of shape (n_classes,)
        The model's output for this window.
    occlusion : ndarray of shape (H, W) or None
        The occlusion map beside Grad-CAM (``method="both"``).
    occlusion_relevance : Relevance or None
        The occlusion map mapped onto the signal.
    details : dict
        More about how the relevance was found (``method="signal"``: the
        parts, spans, and ``probability_without_relevant``, the class's
        probability once the relevant parts are removed), in the JSON.
    """

    window: Window
    image: np.ndarray
    attribution: np.ndarray
    relevance: Relevance
    probabilities: np.ndarray
    occlusion: np.ndarray | None = None
    occlusion_relevance: Relevance | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Explanation:
    """Why the model gave one input its label, in the signal's own terms.

    Attributes
    ----------
    source : str
        The input's name.
    label : str
        The explained class (the prediction unless a target was given).
    predicted : str
        The predicted label (mean over windows).
    probability : float
        The mean probability of ``label`` over all windows.
    classes : list of str
    method : str
        ``"gradcam"``, ``"occlusion"``, ``"both"`` or ``"signal"``.
    windows : list of WindowExplanation
        The explained windows (those that most support ``label``), in signal order.
    signal : object
        The whole raw signal (for drawing the windows in place), or None.
    converter : Converter or None
    n_windows : int
        Windows the input has in all.
    """

    source: str
    label: str
    predicted: str
    probability: float
    classes: list[str]
    method: str
    windows: list[WindowExplanation]
    signal: Any = None
    converter: Converter | None = None
    n_windows: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: the prediction and, per window, the most relevant places."""
        out: dict[str, Any] = {
            "source": self.source, "label": self.label, "predicted": self.predicted,
            "probability": self.probability, "method": self.method, "n_windows": self.n_windows,
            "converter": None if self.converter is None else json.loads(self.converter.to_json()),
            "windows": [],
        }
        for w in self.windows:
            entry = {**w.window.describe(), "probability": float(w.probabilities[self.classes.index(self.label)]),
                     "relevance": w.relevance.summary()}
            if w.occlusion_relevance is not None:
                entry["occlusion_relevance"] = w.occlusion_relevance.summary()
            entry.update(w.details)
            out["windows"].append(entry)
        out.update(self.extra)
        return out

    def save(self, folder: str | os.PathLike[str], stem: str | None = None) -> dict[str, Path]:
        """Write ``STEM.png`` (the figure), ``STEM.csv`` (the numbers) and ``STEM.json`` into ``folder``."""
        from any2img.explain_plot import plot_explanation

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        stem = stem or safe_stem(self.source)
        paths = {"figure": out / f"{stem}.png", "csv": out / f"{stem}.csv", "json": out / f"{stem}.json"}
        plot_explanation(self).savefig(paths["figure"], dpi=100)
        _write_csv(paths["csv"], self)
        paths["json"].write_text(json.dumps(self.to_dict(), indent=1, default=_json_default) + "\n",
                                 encoding="utf-8")
        return paths


def safe_stem(source: str) -> str:
    """A file name for an input's outputs (its base name, odd characters replaced)."""
    name = Path(source.split("[")[0]).stem or "input"
    record = re.search(r"\[(.*)\]$", source)
    if record:
        name += "-" + record.group(1)
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name).strip("._") or "input"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _write_csv(path: Path, ex: Explanation) -> None:
    rows: list[list[Any]] = []
    header: list[str] = []
    for w in ex.windows:
        table = w.relevance.table()
        if w.occlusion_relevance is not None:
            table["occlusion_relevance"] = w.occlusion_relevance.table()["relevance"]
        header = ["window", *table]
        rows.extend([w.window.index, *vals] for vals in zip(*table.values()))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _preprocess(predictor: Predictor, images: list[np.ndarray]) -> Any:
    from any2img.data.transforms import preprocess_batch

    return preprocess_batch(images, predictor.data_config).to(predictor.device)


def attribute(predictor: Predictor, images: list[np.ndarray], target: int, method: str = "gradcam",
              layer: str | None = "auto") -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Attribution maps of pictures for class ``target``, at each picture's own size.

    Computed on the preprocessed tensor the model sees, then upsampled to
    the picture. ``layer`` is Grad-CAM's (see
    :func:`any2img.learn.attribution.resolve_layer`). Returns ``(primary
    maps, occlusion maps or None)``.
    """
    from any2img.learn.attribution import grad_cam, occlusion, upsample

    if method not in IMAGE_METHODS:
        raise ParameterError(f"'method' must be one of {', '.join(IMAGE_METHODS)} on a picture (got {method!r}; "
                             "'signal' occludes the raw input: any2img.explain_signal).")
    x = _preprocess(predictor, images)
    if method == "occlusion":
        primary = occlusion(predictor.model, x, target)
    else:
        primary = grad_cam(predictor.model, x, target, layer)
    occ = occlusion(predictor.model, x, target) if method == "both" else None
    maps = [upsample(m, img.shape[:2]) for m, img in zip(primary, images)]
    occs: list[np.ndarray | None] = [None] * len(images)
    if occ is not None:
        occs = [upsample(m, img.shape[:2]) for m, img in zip(occ, images)]
    return maps, occs


@overload
def _relevance(conv: Converter | None, attribution: np.ndarray, window: Window) -> Relevance: ...
@overload
def _relevance(conv: Converter | None, attribution: None, window: Window) -> None: ...
def _relevance(conv: Converter | None, attribution: np.ndarray | None, window: Window) -> Relevance | None:
    """An attribution map in the signal's coordinates (the converter's mapping; pixels without one)."""
    if attribution is None:
        return None
    return conv.relevance(attribution, window) if conv is not None else PixelRelevance(attribution.astype(np.float64))


def explain(
    predictor: Predictor,
    signal: Any,
    *,
    method: str = "gradcam",
    target: str | None = None,
    max_windows: int = 3,
    source: str = "<array>",
    layer: str | None = "auto",
) -> Explanation:
    """Explain the model's answer for one raw signal (or one picture).

    Parameters
    ----------
    predictor : Predictor
    signal : object
        A raw signal of the converter's kind (array, AudioSignal, MouseLog,
        ...), as :meth:`Predictor.predict` takes; or an ``(H, W, 3)`` picture
        when the model has no converter.
    method : {"gradcam", "occlusion", "both", "signal"}, default="gradcam"
        The attribution; ``"both"`` adds occlusion beside Grad-CAM;
        ``"signal"``: occlusion in the signal's own domain (stretches of
        time steps interpolated over, of frames silenced, of mouse events
        dropped; see :mod:`any2img.explain_signal` for the span rules),
        which needs a converter.
    target : str, optional
        The class to explain (default: the prediction).
    max_windows : int, default=3
        Of a long input, explain the windows that most support the class.
    source : str
        The input's name, for the outputs.
    layer : {"auto", "last"} or str, default="auto"
        Grad-CAM's stage. ``"auto"``: the last convolutional stage, or a
        finer one when the last map has fewer than 8 cells a side at the
        model's input size (see
        :func:`any2img.learn.attribution.resolve_layer`); ``"last"``: the
        last stage always, as Grad-CAM is defined. ``"auto"`` is the default
        because signal pictures are small: at 64-128 px lite0's last map is
        2-4 cells a side, and on FSDD its relevance failed the deletion test
        where ``"auto"`` passed (``benchmarks/EXPLAIN.md`` of the repository).

    Returns
    -------
    Explanation

    Notes
    -----
    The pictures explained are the converter's (numpy) pictures, on which
    ``Converter.relevance`` is defined; a model trained with
    ``convert_on="device"`` saw the torch implementation's, equal within its
    stated tolerance.
    """
    if max_windows < 1:
        raise ParameterError(f"'max_windows' must be an int >= 1 (got {max_windows!r}).")
    if method not in METHODS:
        raise ParameterError(f"'method' must be one of {', '.join(METHODS)} (got {method!r}).")
    conv = predictor.converter
    if method == "signal" and conv is None:
        raise ParameterError("method='signal' removes parts of a raw signal; this model reads plain pictures "
                             "(use method='occlusion').")
    if conv is None:
        windows = [Window(np.asarray(signal), 0, 0.0, 0.0, "pixels")]
        images = [np.asarray(signal, dtype=np.uint8)]
    else:
        windows = conv.segment(signal)
        if not windows:
            raise InputError("the input yields no window with the model's segmentation parameters")
        images = []
    if conv is None:
        probs = predictor.predict_images(images)
    else:  # a batch of pictures at a time, so a long recording's pictures never all sit in memory
        step = max(1, predictor.batch_size)
        probs = np.concatenate([predictor.predict_images(conv.convert_batch(windows[lo : lo + step]))
                                for lo in range(0, len(windows), step)])
    mean = probs.mean(axis=0)
    predicted = predictor.classes[int(np.argmax(mean))]
    label = predicted if target is None else str(target)
    if label not in predictor.classes:
        raise ParameterError(f"'target' must be one of the model's classes {predictor.classes} (got {target!r}).")
    c = predictor.classes.index(label)
    chosen = sorted(np.argsort(-probs[:, c], kind="stable")[:max_windows].tolist())
    pictures = [images[i] for i in chosen] if conv is None else conv.convert_batch([windows[i] for i in chosen])
    explained = []
    if method == "signal":
        assert conv is not None
        for i, picture in zip(chosen, pictures):
            explained.append(_signal_window(predictor, conv, windows[i], picture, c, float(probs[i, c]), probs[i]))
        extra: dict[str, Any] = {"layer": None}
    else:
        maps, occs = attribute(predictor, pictures, c, method, layer)
        for i, picture, a, o in zip(chosen, pictures, maps, occs):
            explained.append(WindowExplanation(windows[i], picture, a, _relevance(conv, a, windows[i]), probs[i], o,
                                               _relevance(conv, o, windows[i])))
        extra = {"layer": layer or "last"}
    return Explanation(source=source, label=label, predicted=predicted, probability=float(mean[c]),
                       classes=list(predictor.classes), method=method, windows=explained,
                       signal=signal if conv is not None else None, converter=conv, n_windows=len(windows),
                       extra=extra)


def _signal_window(predictor: Predictor, conv: Converter, window: Window, picture: np.ndarray, target: int,
                   probability: float, probs: np.ndarray) -> WindowExplanation:
    """One window explained by occlusion in the signal's domain (see :func:`explain`, ``method="signal"``)."""
    from any2img.explain_signal import signal_occlusion

    occ = signal_occlusion(predictor, conv, window, target, probability=probability)
    relevant = half_mass(occ.values)
    without = conv.convert(occ.parts.remove(relevant)) if relevant.any() else picture
    change = np.abs(without.astype(np.float64) - picture.astype(np.float64)).mean(axis=2)
    top = change.max()
    p_without = float(predictor.predict_images([without])[0, target]) if relevant.any() else probability
    details = {"signal_occlusion": {**occ.describe(), "relevant_parts": int(relevant.sum()),
                                    "probability_without_relevant": p_without}}
    return WindowExplanation(window, picture, change / top if top > 0 else change, occ.relevance, probs,
                             details=details)


def explain_file(predictor: Predictor, path: str | os.PathLike[str], **kwargs: Any) -> list[Explanation]:
    """Explain every record of a raw file (one for most files, one per row of a table)."""
    from any2img.data.items import IMAGE_EXTENSIONS, load_image

    name = str(path)
    if not Path(path).exists():
        raise InputError("no such file", path=path)
    if Path(path).suffix.lower() in IMAGE_EXTENSIONS and (
        predictor.converter is None or predictor.converter.kind != "image"
    ):
        image = load_image(path)
        if predictor.converter is not None:
            raise InputError("this model reads raw signals; an image file can only be explained by a model "
                             "trained on plain pictures", path=path)
        return [explain(predictor, image, source=name, **kwargs)]
    out = []
    for record in predictor.records(path):
        source = f"{name}[{record.key}]" if record.key else name
        out.append(explain(predictor, record.signal, source=source, **kwargs))
    return out


# -- explanations beside the top losses of an evaluation ----------------------------------------------------------
def item_windows(root: str | os.PathLike[str]) -> Any:
    """Return ``f(item) -> (converter, signal, Window)`` rebuilding a converted item's window, or None.

    ``root`` is a converted folder: :func:`any2img.sources.source_reader_for`
    reads the item's record again; it is segmented with the recorded
    parameters, and the item's window index picks the window.
    """
    from any2img.sources import source_reader_for

    read = source_reader_for(root)
    if read is None:
        return None

    def rebuild(item: Any) -> tuple[Converter, Any, Window]:
        conv, signal, path = read(item)
        windows = conv.segment(signal)
        index = int((item.window or {}).get("index", 0))
        if not 0 <= index < len(windows):
            raise InputError(f"the source yields {len(windows)} windows, not window {index}", path=path)
        return conv, signal, windows[index]

    return rebuild


def explain_item(predictor: Predictor, item: Any, target: str | None, rebuild: Any = None, *,
                 method: str = "gradcam") -> Explanation:
    """Explain class ``target`` (None: the predicted one) for one converted item.

    On the item's own picture, mapped through its source's converter.
    """
    image = item.load()
    probs = predictor.predict_images([image])[0]
    target = predictor.classes[int(np.argmax(probs))] if target is None else target
    c = predictor.classes.index(target)
    maps, occs = attribute(predictor, [image], c, method)
    conv, signal, window = (None, None, Window(image, 0, 0.0, 0.0, "pixels"))
    if rebuild is not None and item.source:
        conv, signal, window = rebuild(item)
    if conv is not None and conv.convert(window).shape[:2] != image.shape[:2]:
        conv = None  # the picture is not the converter's (resized since): stay with pixels
    rel, orel = _relevance(conv, maps[0], window), _relevance(conv, occs[0], window)
    where = f"{item.source}[{item.record}]" if item.record else str(item.source or item.describe())
    return Explanation(source=where, label=target, predicted=predictor.classes[int(np.argmax(probs))],
                       probability=float(probs[c]), classes=list(predictor.classes), method=method,
                       windows=[WindowExplanation(window, image, maps[0], rel, probs, occs[0], orel)],
                       signal=signal if conv is not None else None, converter=conv)


def explaining_plotter(predictor: Predictor, root: str | os.PathLike[str] | None, k: int, folder: Path,
                       base: Any = None) -> tuple[Any, dict[str, Path]]:
    """A top-losses source plotter that draws the first ``k`` items' sources with their relevance.

    Each of those items is explained for its *predicted* class (why the
    model said what it said); the full explanation (figure, CSV, JSON) is
    written to ``folder/top_loss_N.*``. Later items are drawn by ``base``.
    Returns ``(plotter, files)``; ``files`` fills as the plot is drawn.
    """
    from any2img.explain_plot import draw_relevance

    rebuild = item_windows(root) if root is not None else None
    files: dict[str, Path] = {}
    calls = {"n": 0}

    def plot(ax: Any, item: Any) -> None:
        calls["n"] += 1
        if calls["n"] > k:
            if base is not None:
                base(ax, item)
            return
        ex = explain_item(predictor, item, None, rebuild)  # for the predicted class
        for name, path in ex.save(folder, f"top_loss_{calls['n']}").items():
            files[f"top_loss_{calls['n']}_{name}"] = path
        draw_relevance(ax, ex)

    return plot, files
