"""``any2img.evaluate(model, data)``: metrics, plots and per-recording accuracy of an exported model.

The pipeline behind ``any2img evaluate``, as a library function: read the
labelled data (a converted folder, a folder of class sub-folders, or raw
files that the model's converter reads), keep the marked test side unless
asked for every item, leave out what the model trained or was selected on,
predict, and write the metrics and the interpretation plots.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from any2img.data.items import ImageItems, LabelFrom
from any2img.errors import InputError

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """What :func:`evaluate` measured and wrote.

    Attributes
    ----------
    metrics : dict
        ``loss``, the model's metrics, ``n``, ``items`` (``"test"`` or
        ``"all"``), ``seen_items`` / ``left_out_seen``, and
        ``recording_accuracy`` / ``n_recordings`` when recordings have
        several windows.
    interpretation : Interpretation
        Confusion matrix, most confused pairs, top losses.
    files : dict of str to Path
        The files written (``metrics.json`` among them).
    """

    metrics: dict[str, Any]
    interpretation: Any
    files: dict[str, Path] = field(default_factory=dict)


def _read_items(data: str | os.PathLike[str], meta: dict[str, Any], workdir: Path, label_from: LabelFrom,
                progress: bool) -> ImageItems:
    from any2img.data import items_from_path

    try:
        return items_from_path(data, label_from)
    except InputError:
        converter = meta.get("converter")
        if not converter or not Path(data).exists():
            raise
    from any2img.batch import convert_dir

    report = convert_dir(converter["name"], data, workdir, params=converter.get("params") or {},
                         label_from=label_from, progress=progress)
    if not report.images:
        raise InputError(f"no image and nothing the model's converter '{converter['name']}' could convert",
                         path=data)
    return items_from_path(workdir)


def evaluate(
    model: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    all_items: bool = False,
    include_seen: bool = False,
    label_from: LabelFrom = "parent",
    batch_size: int = 64,
    top_k: int = 9,
    device: str = "auto",
    progress: bool = False,
) -> Evaluation:
    """Evaluate the exported model folder ``model`` on the labelled ``data``.

    Parameters
    ----------
    model : path
        A folder written by ``any2img train`` / ``Learner.export``.
    data : path
        A converted folder (``manifest.jsonl``), a folder of class
        sub-folders of images, or raw files the model's converter reads
        (converted first, in a temporary folder).
    out : path, optional
        Where to write ``metrics.json``, ``confusion_matrix.png/.csv``,
        ``classification_report.csv`` and ``top_losses.png/.csv``
        (default ``MODEL/evaluation``).
    all_items : bool, default=False
        Use every item, not only those marked ``test``.
    include_seen : bool, default=False
        Also score items the model trained or was selected on (recorded by
        content in its ``model.json``); by default they are left out with a
        :class:`~any2img.learn.heldout.SeenItemsWarning`, and nothing held
        out left is an error.
    label_from : "parent" or regex, default="parent"
        For plain folders.
    batch_size, top_k, device, progress
        Prediction batch size, items in the top-losses plot, ``"auto"`` /
        ``"cpu"`` / ``"cuda"``, and a progress bar for a conversion.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        No labelled, held-out item; a label the model does not know.
    """
    import torch

    from any2img.artifact import load_artifact
    from any2img.data.dataset import ImageDataset
    from any2img.learn.heldout import held_out, recording_accuracy
    from any2img.learn.inference import predict_logits, resolve_device, softmax_np
    from any2img.learn.interpret import Interpretation
    from any2img.learn.metrics import compute_metrics
    from any2img.sources import source_plotter_for

    art = load_artifact(model)
    folder = Path(out) if out is not None else Path(model) / "evaluation"
    with tempfile.TemporaryDirectory(prefix="any2img-eval-") as tmp:
        items = _read_items(data, art.meta, Path(tmp), label_from, progress)
        side = "all"
        if not all_items and any(it.split == "test" for it in items):
            items, side = items.filter(lambda it: it.split == "test"), "test"
        items = items.filter(lambda it: it.label is not None)
        if not len(items):
            raise InputError("no labelled image to evaluate on", path=data)
        items, seen = held_out(items, art.meta, include_seen=include_seen, where=str(data))
        unknown = sorted({str(it.label) for it in items} - set(art.classes))
        if unknown:
            raise InputError(f"labels {unknown} are not among the model's classes {art.classes}", path=data)
        dev = resolve_device(device)
        dataset = ImageDataset(items, art.classes, art.data_config)
        logits, targets = predict_logits(art.model.to(dev), dataset, batch_size=batch_size, device=dev)
        probs = softmax_np(logits)
        names = art.meta.get("training", {}).get("metrics") or ["accuracy", "error_rate", "macro_f1"]
        metrics: dict[str, Any] = {
            "loss": float(torch.nn.functional.cross_entropy(logits, targets)),
            **compute_metrics(names, probs, targets.numpy()),
            "n": len(items),
            "items": side,
            "seen_items": seen if include_seen else 0,
            "left_out_seen": 0 if include_seen else seen,
        }
        metrics.update(recording_accuracy(probs, targets.numpy(), items) or {})
        interp = Interpretation(probs, targets.numpy(), art.classes, items)
        plotter = source_plotter_for(items.root) if items.root is not None else None
        files = dict(interp.save(folder, k=top_k, source_plotter=plotter))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    files["metrics"] = folder / "metrics.json"
    return Evaluation(metrics=metrics, interpretation=interp, files=files)
