"""Run a benchmark suite: convert (cached), train, evaluate once on test, record.

Usage (anywhere, with ``pip install 'any2img[bench]'``; ``python -m
benchmarks`` in a checkout takes the same options)::

    any2img bench --suite quick
    any2img bench --suite full --only GunPoint FSDD:loso-nicolas --seeds 3
    any2img bench --suite full --dry-run

Where the data, the cache and the results are: :mod:`any2img.bench.locations`.
Every finished configuration is appended to ``<results>/<suite>.csv`` at once,
so a long run can be stopped and resumed: a rerun skips the configurations
already in the CSV. Model selection reads the validation side only; the test
side is evaluated once per configuration, after training.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from any2img.bench.datasets import DatasetSpec, Unit, get_dataset
from any2img.bench.locations import cache_dir, data_root, results_dir, results_md, using
from any2img.bench.machine import machine_info, machine_label
from any2img.bench.options import add_arguments
from any2img.bench.requirements import missing_requirements
from any2img.bench.suites import SUITES, Config, build_suite
from any2img.errors import Any2ImgError, MissingDependencyError

__all__ = ["FIELDS", "done_keys", "main", "parse_params", "pending", "row_key", "run_configs", "run_from_args"]

#: Columns of the results CSV, in order.
FIELDS = (
    "dataset", "split", "converter", "family", "pretrained", "seed", "valid_acc", "test_acc", "test_macro_f1",
    "test_session_acc", "epochs", "image_size", "backbone", "n_train", "n_valid", "n_test", "train_seconds",
    "images_per_second", "convert_seconds", "variant", "machine", "finished", "note", "settings", "budget",
)

BACKBONE = "tf_efficientnet_lite0"
#: torch CPU threads for training (None: the Learner's default, every core). On a CPU shared with other
#: jobs, 1 thread per process avoids OpenMP oversubscription (measured 6-10x faster there).
THREADS: int | None = None
#: The converter used to read raw signals (and window them) for each modality's baselines.
READER = {"timeseries": "gasf", "audio": "mel", "mouse": "trajectory"}


# -- the CSV and resuming ------------------------------------------------------
def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """The identity of a CSV row, as :attr:`Config.key`."""
    return (str(row["dataset"]), str(row["split"]), str(row["converter"]), str(row["pretrained"]),
            int(float(row["seed"])), str(row.get("variant") or ""), str(row.get("image_size") or ""),
            str(row.get("epochs") or ""), str(row.get("settings") or ""))


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    """Rows of a results CSV (none when it does not exist)."""
    if not csv_path.is_file():
        return []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def done_keys(csv_path: Path) -> set[tuple[Any, ...]]:
    """Keys of the configurations already recorded in ``csv_path``."""
    return {row_key(r) for r in read_rows(csv_path)}


def pending(configs: Sequence[Config], done: set[tuple[Any, ...]]) -> list[Config]:
    """The configurations not yet in the CSV, in order."""
    return [c for c in configs if c.key not in done]


def append_row(csv_path: Path, row: dict[str, Any]) -> None:
    """Append one row (writing the header first when the file is new)."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    new = not csv_path.is_file() or csv_path.stat().st_size == 0
    if not new:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        if tuple(header) != FIELDS:  # written by an older runner: rewrite under today's columns first
            old_rows = read_rows(csv_path)
            tmp = csv_path.with_suffix(".csv.tmp")
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows({k: r.get(k) or "" for k in FIELDS} for r in old_rows)
            tmp.replace(csv_path)
    with open(csv_path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: _fmt(row.get(k, "")) for k in FIELDS})


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return ""
    return value


# -- helpers ---------------------------------------------------------------------
def _accuracy(pred: Sequence[Any] | np.ndarray, true: Sequence[Any] | np.ndarray) -> float:
    pred_s, true_s = np.asarray(pred).astype(str), np.asarray(true).astype(str)
    return float(np.mean(pred_s == true_s)) if len(true_s) else float("nan")


def _macro_f1(pred: Sequence[Any] | np.ndarray, true: Sequence[Any] | np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(np.asarray(true).astype(str), np.asarray(pred).astype(str), average="macro"))


def session_accuracy(proba: np.ndarray, classes: Sequence[Any] | np.ndarray, true: Sequence[Any],
                     groups: Sequence[Any]) -> float:
    """Accuracy per group (session) from the mean of its windows' probabilities."""
    proba = np.asarray(proba, dtype=np.float64)
    true_s, groups_s = np.asarray(true).astype(str), np.asarray(groups).astype(str)
    classes_s = np.asarray(classes).astype(str)
    hits = []
    for g in np.unique(groups_s):
        mask = groups_s == g
        labels = np.unique(true_s[mask])
        if len(labels) != 1:
            raise ValueError(f"group {g!r} mixes labels {labels.tolist()}")
        hits.append(classes_s[int(np.argmax(proba[mask].mean(axis=0)))] == labels[0])
    return float(np.mean(hits)) if hits else float("nan")


def _params_id(converter: Any) -> str:
    """Cache folder name: the converter, every parameter it uses (defaults included) and its family's code.

    Hashing the resolved parameters (not only those a configuration sets)
    means a changed library default converts afresh instead of reusing
    pictures drawn under the old one; hashing the source files of the
    converter's package (``converters/mouse/*.py`` for a mouse converter)
    means the same for a changed drawing with unchanged parameters, which
    a version number would miss between releases.
    """
    resolved = converter.get_params()
    digest = hashlib.sha1(json.dumps(resolved, sort_keys=True, default=str).encode())
    digest.update(_code_digest(type(converter).__module__).encode())
    return f"{converter.name}-{digest.hexdigest()[:8]}"


def _code_digest(module: str) -> str:
    """SHA-1 of the ``.py`` files beside ``module``'s file, in name order ("" where it has no file)."""
    where = getattr(sys.modules.get(module), "__file__", None)
    if where is None:
        return ""
    digest = hashlib.sha1()
    for path in sorted(Path(where).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def data_facts(spec: DatasetSpec, converter_name: str) -> dict[str, Any]:
    """The data set's :attr:`~DatasetSpec.converter_params` that converter ``converter_name`` takes."""
    from any2img.registry import get_converter_class

    accepted = get_converter_class(converter_name).param_defaults()
    return {k: v for k, v in spec.converter_params.items() if k in accepted}


def image_params(cfg: Config) -> dict[str, Any]:
    """Converter parameters of an image configuration (its size goes in ``image_size``)."""
    from any2img.registry import get_converter_class

    params = {**data_facts(get_dataset(cfg.dataset), cfg.method), **cfg.converter_params()}
    if cfg.image_size and "image_size" in get_converter_class(cfg.method).param_defaults():
        params.setdefault("image_size", cfg.image_size)
    return params


def _variant_dir(spec: DatasetSpec, variant: str) -> str:
    return f"{spec.name}-{variant}" if variant else spec.name


# -- the image route -----------------------------------------------------------
def convert_cached(cfg: Config, spec: DatasetSpec, cache: Path, *, workers: int = 2) -> tuple[Path, float]:
    """Convert the data set with the configuration's converter, once; return (folder, seconds).

    The seconds are those of the conversion that made the images (kept in
    ``bench-convert.json``), so a rerun that converts nothing still reports them.
    """
    from any2img import convert_dir, get_converter

    converter = get_converter(cfg.method, **image_params(cfg))
    src = spec.prepare(cache, cfg.variant)
    dst = cache / "images" / _variant_dir(spec, cfg.variant) / _params_id(converter)
    stamp = dst / "bench-convert.json"
    start = time.perf_counter()
    report = convert_dir(converter, src, dst, label_from=spec.label_from,
                         group_from=spec.group_from, workers=workers, progress=False)
    seconds = time.perf_counter() - start
    if report.failures:
        print(f"  conversion: {len(report.failures)} sources failed, e.g. {report.failures[0]}", file=sys.stderr)
    if report.images or not stamp.is_file():
        stamp.write_text(json.dumps({"seconds": seconds, "images": report.images}) + "\n")
    else:
        seconds = float(json.loads(stamp.read_text())["seconds"])
    return dst, seconds


def _unit(item: Any) -> Unit:
    return Unit(source=str(item.source), record=str(item.record or ""), label=item.label, group=item.group,
                split=item.split)


def image_split(folder: Path, spec: DatasetSpec, split: str) -> Any:
    """The fixed train/valid/test split of a converted folder."""
    from any2img.data import ImageItems, items_from_manifest, split_items

    items = items_from_manifest(folder / "manifest.jsonl")
    roles = spec.assign(split, [_unit(i) for i in items])
    kept = [replace(item, split=role) for item, role in zip(items, roles) if role is not None]
    return split_items(ImageItems(kept, root=items.root, converter=items.converter), by="predefined",
                       test="predefined")


def cli_split(folder: Path, spec: DatasetSpec, split: str) -> Any:
    """The split ``any2img train`` makes of a converted folder whose test side is marked.

    Only the benchmark's test side is marked (its validation side joins
    training); the CLI's defaults then carve the validation side:
    ``valid_pct=0.2``, ``seed=42``, grouped where the data has groups.
    """
    from any2img.data import ImageItems, items_from_manifest, split_items

    items = items_from_manifest(folder / "manifest.jsonl")
    roles = spec.assign(split, [_unit(i) for i in items])
    kept = [replace(item, split="test" if role == "test" else "train") for item, role in zip(items, roles)
            if role is not None]
    return split_items(ImageItems(kept, root=items.root, converter=items.converter), valid_pct=0.2, seed=42,
                       by="auto", test="predefined")


def run_image(cfg: Config, spec: DatasetSpec, cache: Path, history_dir: Path) -> dict[str, Any]:
    from any2img.learn import Learner

    folder, convert_seconds = convert_cached(cfg, spec, cache)
    tune: dict[str, Any] = {}
    if cfg.recipe == "defaults":  # exactly `any2img train FOLDER` without flags (seed aside)
        split = cli_split(folder, spec, cfg.split)
        learn = Learner(split, backbone=BACKBONE, seed=cfg.seed, verbose=False, num_threads=THREADS)
    else:
        split = image_split(folder, spec, cfg.split)
        learn = Learner(split, backbone=BACKBONE, pretrained=bool(cfg.pretrained),
                        image_size=cfg.image_size or None, batch_size=cfg.batch_size, seed=cfg.seed,
                        verbose=False, num_threads=THREADS, augment=cfg.augment or None)
        tune = {"epochs": cfg.epochs, "base_lr": cfg.base_lr}
    start = time.perf_counter()
    learn.fine_tune(**tune)
    train_seconds = time.perf_counter() - start
    epochs_run = len(learn.history)
    valid = learn.evaluate(split="valid")
    test = learn.evaluate(split="test")  # once, after training
    row: dict[str, Any] = {
        "valid_acc": valid.get("accuracy"), "test_acc": test.get("accuracy"),
        "test_macro_f1": test.get("macro_f1"), "n_train": len(split.train), "n_valid": len(split.valid),
        "n_test": len(split.test), "train_seconds": train_seconds, "convert_seconds": convert_seconds,
        "images_per_second": len(split.train) * epochs_run / train_seconds if train_seconds > 0 else None,
        "backbone": BACKBONE,
        "budget": (f"batch {learn.batch_size}, {epochs_run} ep = {learn.budget.steps} steps, "
                   f"{'x'.join(map(str, learn.data_config.size))} px, selected ep {learn.selected_epoch}"),
    }
    if spec.session_level:
        probs, targets = learn.get_preds("test")
        probs = np.asarray(probs)
        true = [split.classes[int(t)] for t in np.asarray(targets)]
        row["test_session_acc"] = session_accuracy(probs, split.classes, true, [i.group for i in split.test])
    history = [dict(h) for h in getattr(learn, "history", [])]
    history_dir.mkdir(parents=True, exist_ok=True)
    (history_dir / f"{_slug(cfg)}.json").write_text(
        json.dumps({"config": json.loads(cfg.to_json()), "settings": cfg.settings, "history": history},
                   default=_json_default, indent=1))
    return row


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _slug(cfg: Config) -> str:
    """File name of a configuration's history: every part of its key, so no run overwrites another's."""
    parts = [cfg.dataset, cfg.split, cfg.variant, cfg.method, cfg.init,
             f"{cfg.image_size}px" if cfg.image_size else "", f"{cfg.epochs}ep" if cfg.epochs else "",
             cfg.settings, f"s{cfg.seed}"]
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", "-".join(p for p in parts if p))


# -- the baselines -----------------------------------------------------------------
def baseline_samples(spec: DatasetSpec, cfg: Config, cache: Path) -> tuple[list[Any], list[Unit]]:
    """Raw samples and their units, read by the modality's converter from the prepared files.

    Time series: one series per record. Audio: MFCC statistics per file.
    Mouse: hand-crafted features per window (the image route's windows).
    """
    from any2img import get_converter
    from any2img.batch.convert_dir import find_sources
    from any2img.batch.labels import parse_rule, split_of

    conv = get_converter(READER[spec.modality], **data_facts(spec, READER[spec.modality]))
    src = spec.prepare(cache, cfg.variant)
    label_of, group_of = parse_rule(spec.label_from, "label"), parse_rule(spec.group_from, "group")
    samples: list[Any] = []
    units: list[Unit] = []
    for path in find_sources(conv, src):
        rel = path.relative_to(src)
        for record in conv.read_records(path):
            label = record.label if record.label is not None else label_of(path)
            unit = Unit(rel.as_posix(), record.key, label, record.meta.get("group") or group_of(path), split_of(rel))
            if spec.modality == "timeseries":
                samples.append(np.asarray(record.signal, dtype=np.float64))
                units.append(unit)
            elif spec.modality == "audio":
                from any2img.bench.baselines.audio import as_waveform, mfcc_stats

                samples.append(mfcc_stats(*as_waveform(record.signal)))
                units.append(unit)
            else:
                from any2img.bench.baselines.mouse import window_features

                for window in conv.segment(record.signal):
                    samples.append(window_features(window.data))
                    units.append(unit)
    return samples, units


_SAMPLE_CACHE: dict[tuple[str, str, str], tuple[list[Any], list[Unit]]] = {}


def run_baseline(cfg: Config, spec: DatasetSpec, cache: Path) -> dict[str, Any]:
    from any2img.bench.baselines import fit_predict, unavailable

    why = unavailable(cfg.method)
    if why:
        return {"note": f"skipped: {why}"}
    key = (spec.name, spec.modality, cfg.variant)
    start = time.perf_counter()
    if key not in _SAMPLE_CACHE:
        _SAMPLE_CACHE[key] = baseline_samples(spec, cfg, cache)
    samples, units = _SAMPLE_CACHE[key]
    feature_seconds = time.perf_counter() - start
    roles = spec.assign(cfg.split, units)
    side = {r: [i for i, role in enumerate(roles) if role == r] for r in ("train", "valid", "test")}

    def pick(name: str) -> list[Any]:
        return [samples[i] for i in side[name]]

    y = {name: [units[i].label for i in side[name]] for name in side}
    start = time.perf_counter()
    out = fit_predict(cfg.method, pick("train"), y["train"], pick("valid"), pick("test"), seed=cfg.seed)
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {
        "valid_acc": _accuracy(out.valid_pred, y["valid"]) if side["valid"] else None,
        "test_acc": _accuracy(out.test_pred, y["test"]), "test_macro_f1": _macro_f1(out.test_pred, y["test"]),
        "n_train": len(side["train"]), "n_valid": len(side["valid"]), "n_test": len(side["test"]),
        "train_seconds": seconds, "convert_seconds": feature_seconds,
    }
    if spec.session_level and out.test_proba is not None:
        row["test_session_acc"] = session_accuracy(out.test_proba, out.classes, y["test"],
                                                   [units[i].group for i in side["test"]])
    return row


# -- driving a suite ---------------------------------------------------------------------
def run_configs(configs: Sequence[Config], *, csv_path: Path, cache: Path | None = None,
                history_dir: Path | None = None, machine: str = "",
                runners: dict[str, Callable[..., dict[str, Any]]] | None = None,
                log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run the configurations not yet in ``csv_path``, appending a row after each.

    A configuration whose data set is absent is skipped with a note (and not
    recorded, so it runs once the data is there); one that fails is logged
    and not recorded either. ``cache`` defaults to :func:`~any2img.bench.locations.cache_dir`.
    """
    cache = cache if cache is not None else cache_dir()
    runners = runners or {"image": run_image, "baseline": run_baseline}
    history_dir = history_dir or csv_path.parent / "histories" / csv_path.stem
    todo = pending(configs, done_keys(csv_path))
    if len(todo) < len(configs):
        log(f"{len(configs) - len(todo)} of {len(configs)} configurations already in {csv_path}; skipping them")
    rows = []
    for n, cfg in enumerate(todo, start=1):
        spec = get_dataset(cfg.dataset)
        missing = spec.available()
        if missing:
            log(f"[{n}/{len(todo)}] {cfg.describe()}: skipped ({missing})")
            continue
        log(f"[{n}/{len(todo)}] {cfg.describe()} ...")
        start = time.perf_counter()
        try:
            if cfg.family == "image":
                result = runners["image"](cfg, spec, cache, history_dir)
            else:
                result = runners["baseline"](cfg, spec, cache)
        except Exception as exc:  # one bad configuration must not end a long run
            log(f"    FAILED: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            continue
        row = {
            "dataset": cfg.dataset, "split": cfg.split, "converter": cfg.method, "family": cfg.family,
            "pretrained": cfg.init, "seed": cfg.seed, "variant": cfg.variant, "settings": cfg.settings,
            "machine": machine,
            "epochs": cfg.epochs_label, "image_size": cfg.image_size or "",
            "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), **result,
        }
        if str(row.get("note", "")).startswith("skipped"):
            log(f"    {row['note']}")
            continue
        append_row(csv_path, row)
        rows.append(row)
        sess = f" session={row['test_session_acc']:.3f}" if isinstance(row.get("test_session_acc"), float) else ""
        log(f"    valid={_show(row.get('valid_acc'))} test={_show(row.get('test_acc'))}{sess} "
            f"({time.perf_counter() - start:.1f} s)")
    return rows


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``["ref=full_scale", "n_mels=64"]`` -> ``{"ref": "full_scale", "n_mels": 64}``.

    Values are read as JSON when they parse (numbers, booleans, lists), else kept as text.
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--param takes NAME=VALUE (got {item!r})")
        try:
            out[name] = json.loads(text)
        except json.JSONDecodeError:
            out[name] = text
    return out


def _show(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def build_parser(prog: str = "python -m any2img.bench") -> argparse.ArgumentParser:
    """The parser of ``python -m any2img.bench`` (``any2img bench`` adds the same options)."""
    p = argparse.ArgumentParser(prog=prog, description="Run the any2img representation benchmarks.")
    add_arguments(p)
    return p


def run_from_args(args: argparse.Namespace, command: str | None = None, *,
                  log: Callable[[str], None] = print) -> int:
    """Run (or list, or only report) what ``args`` asks; ``command`` is recorded as typed.

    Raises
    ------
    MissingDependencyError
        When a configuration to run needs a package that is not installed
        and ``args.skip_missing`` is not set.
    """
    out = results_dir(args.out)
    csv_path = out / f"{args.suite}.csv"
    overrides: dict[str, Any] = {k: v for k, v in (("epochs", args.epochs), ("image_size", args.image_size))
                                 if v is not None}
    if getattr(args, "param", None):
        overrides["params"] = tuple(sorted(parse_params(args.param).items()))
    if getattr(args, "augment", None):
        overrides["augment"] = args.augment
    configs = build_suite(args.suite, seeds=args.seeds, only=args.only, overrides=overrides)
    missing = missing_requirements(configs)
    cache = cache_dir(getattr(args, "cache", None))
    if args.dry_run:
        done = done_keys(csv_path)
        for cfg in configs:
            why = f"  (missing: {missing[cfg.key]})" if cfg.key in missing else ""
            log(f"{'done ' if cfg.key in done else 'todo '} {cfg.describe()}{why}")
        log(f"{len(configs)} configurations, {sum(c.key in done for c in configs)} already in {csv_path}")
        with using(data=getattr(args, "data", None)):
            data = data_root()
        log(f"cache: {cache}; data: {data if data is not None else '(none: FSDD and Balabit are skipped)'}")
        return 0
    from any2img.bench.report import write_report

    md = results_md(out)
    if not args.report_only:
        todo = pending(configs, done_keys(csv_path))
        needed = sorted({missing[c.key] for c in todo if c.key in missing})
        if needed and not getattr(args, "skip_missing", False):
            raise MissingDependencyError(
                f"{sum(c.key in missing for c in todo)} configurations need packages that are not installed: "
                f"{'; '.join(needed)}. Install them, or pass --skip-missing to run the rest.")
        for why in needed:
            log(f"skipping the configurations that need {why}")
        configs = [c for c in configs if c.key not in missing]
        global THREADS
        THREADS = getattr(args, "threads", None)
        info = machine_info()
        info["training_threads"] = THREADS
        command = command or " ".join(["any2img bench", *(shlex.quote(a) for a in sys.argv[1:])])
        started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        log(f"suite {args.suite}: {len(configs)} configurations on {machine_label(info)}")
        with using(data=getattr(args, "data", None)):
            rows = run_configs(configs, csv_path=csv_path, cache=cache, machine=machine_label(info), log=log)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / f"{args.suite}-runs.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"command": command, "started": started,
                                 "finished": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 "suite": args.suite, "seeds": args.seeds or SUITES[args.suite][1],
                                 "only": args.only, "overrides": overrides, "threads": THREADS,
                                 "configurations": len(configs),
                                 "recorded": len(rows), "machine": info}) + "\n")
    write_report(out, md)
    log(f"wrote {csv_path} and {md}")
    return 0


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m any2img.bench") -> int:
    """Run the benchmarks with the command-line arguments ``argv`` (default ``sys.argv[1:]``)."""
    args = build_parser(prog).parse_args(argv)
    command = " ".join([prog, *(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))])
    try:
        return run_from_args(args, command)
    except (Any2ImgError, KeyError, ValueError) as exc:
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"{prog}: error: {text}", file=sys.stderr)
        return 2
