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
from any2img.errors import ArtifactError, InputError

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
                progress: bool, *, raw_only: bool = False) -> ImageItems:
    from any2img.data import items_from_path

    converter = meta.get("converter")
    if not raw_only:
        try:
            return items_from_path(data, label_from)
        except InputError:
            if not converter or not Path(data).exists():
                raise
    elif not converter:
        raise InputError("an ensemble member without a converter cannot draw its own pictures of raw data")
    elif not Path(data).exists():
        raise InputError("no such folder of raw files", path=data)
    from any2img.batch import convert_dir
    from any2img.registry import get_converter

    # A configured object, not a name: the model's record is the converter, nothing is taken from the data.
    report = convert_dir(get_converter(converter["name"], **(converter.get("params") or {})), data, workdir,
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
    explain_top: int = 3,
) -> Evaluation:
    """Evaluate the exported model folder ``model`` on the labelled ``data``.

    Parameters
    ----------
    model : path
        A folder written by ``any2img train`` / ``Learner.export``, or an
        ensemble of them (:func:`any2img.ensemble.write_ensemble`): each
        member then draws its own pictures of the raw ``data``, and the
        items every member holds out are scored on the weighted mean of
        the members' probabilities.
    data : path
        A converted folder (``manifest.jsonl``), a folder of class
        sub-folders of images, or raw files the model's converter reads
        (converted first, in a temporary folder; for an ensemble, raw files
        only).
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
    explain_top : int, default=3
        The first this many top losses of a single model (not an ensemble)
        are explained for their predicted class (Grad-CAM mapped onto their source signal, see
        :mod:`any2img.explain`): drawn beside their picture in
        ``top_losses.png`` and written in full to ``explanations/``. 0 skips it.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        No labelled, held-out item; a label the model does not know.
    """
    import numpy as np
    import torch

    from any2img.ensemble import is_ensemble, member_folders, read_ensemble
    from any2img.learn.heldout import recording_accuracy
    from any2img.learn.interpret import Interpretation
    from any2img.learn.metrics import compute_metrics
    from any2img.sources import source_plotter_for

    if is_ensemble(model):
        spec = read_ensemble(model)
        members, classes = member_folders(model, spec), list(spec["classes"])
    else:
        members, classes = [(Path(model), "", 1.0)], []
    folder = Path(out) if out is not None else Path(model) / "evaluation"
    with tempfile.TemporaryDirectory(prefix="any2img-eval-") as tmp:
        scored = [_score(path, data, Path(tmp) / f"member{i}", label_from=label_from, progress=progress,
                         all_items=all_items, include_seen=include_seen, batch_size=batch_size, device=device,
                         raw_only=len(members) > 1)
                  for i, (path, _, _) in enumerate(members)]
        if len(scored) == 1:
            items, probs, classes, side, seen, names, _ = scored[0]
        else:  # an ensemble: the units every member scored, each member's probabilities in one class order
            common = set.intersection(*({_unit_key(it) for it in s[0]} for s in scored))
            if not common:
                raise InputError("the ensemble's members share no held-out item to score", path=data)
            first = scored[0][0]
            keep = [i for i, it in enumerate(first) if _unit_key(it) in common]
            items = first.take(keep)
            order = [_unit_key(it) for it in items]
            weights = np.array([w for _, _, w in members]) / sum(w for _, _, w in members)
            probs = np.zeros((len(items), len(classes)), dtype=np.float64)
            for (m_items, m_probs, m_classes, *_), w, (path, _, _) in zip(scored, weights, members):
                if sorted(m_classes) != sorted(classes):
                    raise ArtifactError(f"{path}: its classes {m_classes} differ from the ensemble's {classes}.")
                at = {_unit_key(it): i for i, it in enumerate(m_items)}
                cols = [m_classes.index(c) for c in classes]
                probs += w * m_probs[[at[k] for k in order]][:, cols]
            side, seen, names = scored[0][3], max(s[4] for s in scored), scored[0][5]
        targets = np.array([classes.index(str(it.label)) for it in items])
        log_probs = torch.log(torch.as_tensor(probs, dtype=torch.float64).clamp_min(1e-12))
        metrics: dict[str, Any] = {
            "loss": float(torch.nn.functional.nll_loss(log_probs, torch.as_tensor(targets))),
            **compute_metrics(names, probs, targets),
            "n": len(items),
            "items": side,
            "seen_items": seen if include_seen else 0,
            "left_out_seen": 0 if include_seen else seen,
        }
        if len(members) > 1:
            metrics["members"] = [name for _, name, _ in members]
        passes = [s[6].tta for s in scored]
        if any(passes):  # test-time augmentation passes averaged (per member for an ensemble)
            metrics["tta"] = passes[0] if len(passes) == 1 else passes
        metrics.update(recording_accuracy(probs, targets, items) or {})
        interp = Interpretation(probs, targets, classes, items)
        plotter = source_plotter_for(items.root) if items.root is not None else None
        explained: dict[str, Path] = {}
        if explain_top > 0 and len(members) == 1:  # an ensemble has no one picture to explain
            from any2img.explain import explaining_plotter
            from any2img.predict import predictor_from_artifact

            predictor = predictor_from_artifact(scored[0][6], members[0][0], device=device, batch_size=batch_size)
            plotter, explained = explaining_plotter(predictor, items.root, explain_top, folder / "explanations",
                                                    plotter)
        files = dict(interp.save(folder, k=top_k, source_plotter=plotter))
        files.update(explained)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    files["metrics"] = folder / "metrics.json"
    return Evaluation(metrics=metrics, interpretation=interp, files=files)


def _unit_key(item: Any) -> tuple[str, str, int]:
    """The raw unit a picture shows (source, record, window), the same whichever converter drew it."""
    return str(item.source), str(item.record or ""), int((item.window or {}).get("index", 0))


def _score(model: Path, data: str | os.PathLike[str], workdir: Path, *, label_from: LabelFrom, progress: bool,
           all_items: bool, include_seen: bool, batch_size: int, device: str,
           raw_only: bool) -> tuple[ImageItems, Any, list[str], str, int, list[str], Any]:
    """One model's probabilities on the held-out labelled items of ``data``.

    Returns (items, probabilities, classes, side, seen items, metric names, the loaded artifact).
    ``raw_only``: convert ``data`` with the model's converter even when it
    holds pictures (an ensemble's members each draw their own).
    """
    from any2img.artifact import load_artifact
    from any2img.data.dataset import ImageDataset
    from any2img.learn.backbones import place_model
    from any2img.learn.heldout import held_out
    from any2img.learn.inference import predict_logits, resolve_device, softmax_np, tta_mean

    art = load_artifact(model)
    items = _read_items(data, art.meta, workdir, label_from, progress, raw_only=raw_only)
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
    model_on = place_model(art.model, dev)
    logits, _ = predict_logits(model_on, dataset, batch_size=batch_size, device=dev)
    probs = softmax_np(logits)
    if art.tta:  # as the model was evaluated at training time and as Predictor answers: the same draws
        from any2img.predict import checked_augment_options

        probs = tta_mean(model_on, items, art.classes, art.data_config, probs, art.tta, batch_size=batch_size,
                         device=dev, options=checked_augment_options(model, art.meta))
    names = art.meta.get("training", {}).get("metrics") or ["accuracy", "error_rate", "macro_f1"]
    return items, probs, art.classes, side, seen, names, art
