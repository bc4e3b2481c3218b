"""Convert a folder (or one table file) of raw signals into labelled PNGs.

The engine behind :func:`any2img.convert_dir` and ``any2img convert``:

* sources are the files under ``src`` that the converter accepts, in sorted
  order (or ``src`` itself when it is a file, e.g. a table of series);
* each source yields records (a table yields one per row), each record
  windows, each window one PNG under ``dst/[split/]label/``;
* work is spread over worker processes, one source per task;
* PNGs are written atomically; the worker that finishes a source records it
  at once (its state line and manifest rows, one file renamed into
  ``.any2img-done/`` after an ``fsync``), so a run killed at any point, even
  by SIGKILL, loses at most the sources in flight. The run folds that ledger
  into ``manifest.jsonl`` when it ends (or is interrupted), a rerun folds in
  what a killed run left, and converts only sources that are new, changed,
  failed or whose images are missing;
* a bad source or record is reported (path and reason) and skipped; the rest
  still converts. The report says how many failed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from any2img.batch.labels import LabelRule, parse_rule, split_of
from any2img.batch.manifest import (
    ERRORS_NAME,
    LOCK_NAME,
    MANIFEST_NAME,
    STATE_NAME,
    array_hash,
    clear_done,
    file_hash,
    read_done,
    read_jsonl,
    write_done,
    write_jsonl,
    write_png,
)
from any2img.converter import Converter, check_rgb
from any2img.errors import Any2ImgError, InputError, ParameterError, csv_input_error
from any2img.registry import get_converter
from any2img.storage import as_location, is_local, protocol_of, read_records

__all__ = ["ConversionReport", "Failure", "convert_dir", "find_sources"]

CONVERSION_NAME = "conversion.json"


@dataclass(frozen=True)
class Failure:
    """A source (or one record of it) that could not be converted."""

    source: str
    reason: str
    record: str = ""

    def __str__(self) -> str:
        where = f"{self.source} [{self.record}]" if self.record else self.source
        return f"{where}: {self.reason}"


@dataclass
class ConversionReport:
    """What a :func:`convert_dir` run did.

    Attributes
    ----------
    converted_sources, skipped_sources : int
        Sources converted in this run, and sources left as they were
        because a previous run had converted them.
    images : int
        Images written in this run.
    failures : list of Failure
        Sources or records that could not be converted.
    manifest : Path
        The manifest holding every image of ``dst``.
    """

    converted_sources: int = 0
    skipped_sources: int = 0
    images: int = 0
    failures: list[Failure] = field(default_factory=list)
    manifest: Path = Path(MANIFEST_NAME)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.images} images from {self.converted_sources} sources written, "
            f"{self.skipped_sources} sources already done, {len(self.failures)} failed; "
            f"manifest: {self.manifest}"
        )


def find_sources(converter: Converter, src: Path) -> list[Path]:
    """Return the files under ``src`` that ``converter`` reads, sorted."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise InputError("no such file or folder", path=src)
    skip = {MANIFEST_NAME, STATE_NAME, ERRORS_NAME, CONVERSION_NAME}
    return sorted(
        p
        for p in src.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(src).parts)
        and p.name not in skip
        and converter.accepts(p if isinstance(p, Path) else Path(p.path))  # a URL: by its name
    )


def _safe(text: str) -> str:
    """A file-name part: letters, digits, '-', '_' and '.' kept, others '_'; never '.', '..' or hidden."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "_"
    return "_" + safe if safe.startswith(".") else safe


#: The longest image file name written (bytes): file systems allow 255, and the atomic write adds a prefix.
MAX_NAME_BYTES = 180


def _fit_name(stem: str, suffix: str) -> str:
    """``stem + suffix``, or, when that is longer than MAX_NAME_BYTES, a cut stem plus 8 hex digits of its hash.

    Any legal source name (up to 255 bytes) then gives a legal image name,
    and two long names that share their first bytes still differ.
    """
    name = stem + suffix
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
    cut = stem.encode("utf-8")[: MAX_NAME_BYTES - len(suffix) - 9].decode("utf-8", "ignore")
    return f"{cut}-{digest}{suffix}"


def label_folder(label: str) -> str:
    """The folder name of a label: the label itself when it is a safe name, else a safe name plus a hash.

    A label made of letters, digits, '-', '_' and '.' (not starting with a
    dot, at most 100 characters) is its own folder. Any other (``..``,
    ``a/b``, ``.hidden``, a space) has its other characters replaced by '_'
    and 8 hex digits of its SHA-256 appended, so it can never name a place
    outside the destination and two labels never share a folder.
    """
    safe = _safe(label)
    if safe == label and len(label) <= 100:
        return label
    return f"{safe[:100]}-{hashlib.sha256(label.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class _Task:
    path: Path
    relative: Path
    source_hash: str
    label: str | None  # from the path; worked out in the parent process, so
    group: str | None  # label functions need not be picklable


def _convert_source(converter: Converter, task: _Task, dst: Path,
                    settings_key: str = "") -> tuple[list[dict[str, Any]], list[Failure]]:
    """Convert one source and record it in the ledger; never raises for bad input (returns failures)."""
    rows, failures = _convert_records(converter, task, dst)
    state = {"source": task.relative.as_posix(), "source_hash": task.source_hash, "settings": settings_key,
             "images": len(rows), "complete": not failures}
    write_done(dst, state, rows)
    return rows, failures


def _convert_records(converter: Converter, task: _Task, dst: Path) -> tuple[list[dict[str, Any]], list[Failure]]:
    rel = task.relative.as_posix()
    rows: list[dict[str, Any]] = []
    failures: list[Failure] = []
    split = split_of(task.relative)
    stem_parts = list(task.relative.with_suffix("").parts)
    if split is not None and len(stem_parts) > 1:
        stem_parts = stem_parts[1:]
    base = "__".join(_safe(p) for p in stem_parts)
    params = converter.get_params()
    try:
        records: Iterator[Any] = read_records(converter, task.path)  # a URL: from a local copy
        for record in records:
            try:
                label = record.label if record.label is not None else task.label
                group = record.meta.get("group") or task.group
                stem = f"{base}-{_safe(record.key)}" if record.key else base
                group = group if group is not None else stem
                windows = converter.segment(record.signal)
                if not windows:
                    raise InputError("the signal yields no window with the current segmentation parameters")
                images = converter.convert_batch(windows)
                folder = dst / (split or "") / (label_folder(label) if label is not None else "_unlabelled")
                if not folder.resolve().is_relative_to(dst.resolve()):  # a symlinked label folder, say
                    raise InputError(f"the image folder {folder.relative_to(dst).as_posix()!r} leads outside "
                                     "the destination (a symbolic link?); refusing to write there")
                for window, image in zip(windows, images):
                    check_rgb(image, source=f"converter '{converter.name}'")
                    name = _fit_name(f"{stem}-w{window.index:05d}" if len(windows) > 1 else stem, ".png")
                    out = folder / name
                    write_png(out, image)
                    rows.append(
                        {
                            "image": out.relative_to(dst).as_posix(),
                            "source": rel,
                            "record": record.key,
                            "window": window.describe(),
                            "label": label,
                            "group": group,
                            "split": split,
                            "converter": converter.name,
                            "params": params,
                            "source_hash": task.source_hash,
                            "image_hash": array_hash(image),
                            **({"meta": record.meta} if record.meta else {}),
                        }
                    )
            except Any2ImgError as exc:
                failures.append(Failure(rel, _reason(exc), record.key))
            except (ValueError, TypeError, ArithmeticError, IndexError) as exc:
                failures.append(Failure(rel, f"{type(exc).__name__}: {exc}", record.key))
    except Any2ImgError as exc:
        failures.append(Failure(rel, _reason(exc)))
    except csv.Error as exc:
        failures.append(Failure(rel, _reason(csv_input_error(exc, rel))))
    except (OSError, ValueError, TypeError, RuntimeError, EOFError, IndexError, KeyError) as exc:
        failures.append(Failure(rel, f"{type(exc).__name__}: {exc}"))
    return rows, failures


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, InputError) else str(exc)


def convert_dir(
    converter: Converter | str,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    params: dict[str, Any] | None = None,
    label_from: LabelRule = "parent",
    group_from: LabelRule = None,
    workers: int | None = None,
    resume: bool = True,
    progress: bool = True,
    engine: str = "local",
    scheduler: Any = None,
    chunk_size: int | None = None,
) -> ConversionReport:
    """Convert every source under ``src`` into labelled PNGs under ``dst``.

    Parameters
    ----------
    converter : Converter or str
        A converter, or a registered name (then ``params`` configure it).
    src : path or URL
        A folder of raw files (searched recursively), or one file. A URL
        (``s3://``, ``gs://``, ``az://``, ``memory://``, ...) is read through
        fsspec (the ``distributed`` extra; see :mod:`any2img.storage`).
    dst : path or URL
        The output folder: ``dst/[split/]label/<source>[-<record>][-wNNNNN].png``
        plus ``manifest.jsonl``, ``conversion.json`` and ``errors.jsonl``.
    params : dict, optional
        Converter parameters when ``converter`` is a name.
    label_from : {"parent", "stem", "none"}, regex or callable, default="parent"
        Where a source's label comes from; a label column of a table wins.
    group_from : {"parent", "stem", "none"}, regex or callable, optional
        Where a source's group (speaker, session, user) comes from. By
        default each source (each table row) is its own group, so the windows
        of one recording always stay together in a grouped split.
    workers : int, optional
        Worker processes; default ``os.cpu_count()``; 1 runs in-process.
    resume : bool, default=True
        Skip sources already converted with the same content and parameters.
    progress : bool, default=True
        Show a progress bar on stderr.
    engine : {"local", "dask"}, default="local"
        ``"local"``: a process pool of ``workers`` (in-process for
        ``memory://``). ``"dask"``: the workers of a Dask cluster, in chunks
        of sources (see :mod:`any2img.batch.dask_engine`); same manifest,
        resumability, error report and PNGs.
    scheduler : str or distributed.Client, optional
        With ``engine="dask"``: the scheduler's address (``tcp://host:8786``)
        or a client; None starts a local cluster of ``workers`` processes.
    chunk_size : int, optional
        With ``engine="dask"``: sources per Dask task (default about four
        tasks per worker thread, at most 64).

    Returns
    -------
    ConversionReport
    """
    if isinstance(converter, str):
        converter = get_converter(converter, **(params or {}))
    elif params:
        raise ParameterError("'params' is only used with a converter name; configure the converter object instead.")
    converter.check_params()
    from any2img.batch.dask_engine import check_engine

    check_engine(engine, scheduler, src, dst)
    src_path, dst_path = as_location(src), as_location(dst)  # Path, or a upath.UPath for a URL
    label_of = parse_rule(label_from, "label")
    group_of = parse_rule(group_from, "group")
    sources = find_sources(converter, src_path)
    if dst_path.exists() and not dst_path.is_dir():
        raise ParameterError(f"'dst' must be a folder to write the images into (got the file {str(dst_path)!r}).")
    dst_path.mkdir(parents=True, exist_ok=True)
    with _locked(dst_path):
        return _convert_locked(converter, src_path, dst_path, sources, label_of, group_of, label_from, group_from,
                               resume=resume, workers=workers, progress=progress,
                               dask=None if engine == "local" else {"scheduler": scheduler, "chunk_size": chunk_size})


@contextmanager
def _locked(dst: Path) -> Iterator[None]:
    """Hold ``dst/.any2img.lock`` for the run: a second convert into the same folder refuses at once.

    ``filelock`` (the cross-platform lock of tox and virtualenv) rather than
    a home-made one: it uses ``fcntl``/``msvcrt`` locks that the system
    releases when the holder dies, so a killed run never leaves a stale lock.
    """
    from filelock import FileLock, Timeout

    if not is_local(dst):  # object stores have no lock (any2img.storage, README "Scaling out")
        yield
        return
    lock = FileLock(str(dst / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise InputError("another any2img conversion is writing into this folder; wait for it to finish "
                         "(a finished or killed run releases it) or choose another destination", path=dst) from exc
    try:
        yield
    finally:
        lock.release()


def _convert_locked(converter: Converter, src_path: Path, dst_path: Path, sources: list[Path], label_of: Any,
                    group_of: Any, label_from: LabelRule, group_from: LabelRule, *, resume: bool,
                    workers: int | None, progress: bool, dask: dict[str, Any] | None = None) -> ConversionReport:
    root = src_path.parent if src_path.is_file() else src_path
    manifest_path = dst_path / MANIFEST_NAME
    state_path = dst_path / STATE_NAME
    report = ConversionReport(manifest=manifest_path)
    settings = {"converter": converter.name, "params": converter.get_params()}
    settings_key = json.dumps(settings, sort_keys=True)

    # What a previous run finished, and is still valid.
    old_rows = read_jsonl(manifest_path) if resume else []
    old_state = {s["source"]: s for s in read_jsonl(state_path) if isinstance(s.get("source"), str)} if resume else {}
    rows_by_source: dict[str, list[dict[str, Any]]] = {}
    for row in old_rows:
        rows_by_source.setdefault(str(row.get("source")), []).append(row)
    if resume:  # what a killed run finished but had not folded in yet
        for state, rows in read_done(dst_path):
            old_state[state["source"]] = state
            rows_by_source[state["source"]] = rows

    tasks: list[_Task] = []
    keep_rows: list[dict[str, Any]] = []
    keep_state: list[dict[str, Any]] = []
    for path in sources:
        rel = Path(path.relative_to(root).as_posix())  # a plain relative path for URLs too
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.failures.append(Failure(rel.as_posix(), f"cannot read: {exc}"))
            continue
        done = old_state.get(rel.as_posix())
        previous = rows_by_source.get(rel.as_posix(), [])
        if done is not None and still_valid(done, previous, digest, settings_key, dst_path):
            keep_rows.extend(previous)
            keep_state.append(done)
            report.skipped_sources += 1
        else:
            try:
                tasks.append(_Task(path, rel, digest, label_of(path), group_of(path)))
            except Any2ImgError as exc:
                report.failures.append(Failure(rel.as_posix(), _reason(exc)))

    write_jsonl(manifest_path, keep_rows)
    write_jsonl(state_path, keep_state)
    clear_done(dst_path)
    _remove_stale_temporaries(dst_path)
    (dst_path / CONVERSION_NAME).write_text(
        json.dumps({"src": str(src_path.resolve()), **settings, "label_from": _describe(label_from),
                    "group_from": _describe(group_from)}, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )

    def finish(task: _Task, rows: list[dict[str, Any]], failures: list[Failure]) -> None:
        report.images += len(rows)
        report.converted_sources += 1
        report.failures.extend(failures)

    n_workers = (os.cpu_count() or 1) if workers is None else workers
    if n_workers < 1:
        raise ParameterError(f"'workers' must be an int >= 1 (got {workers!r}).")
    bar = _progress(len(tasks), progress, converter.name)
    try:
        if dask is not None:  # engine="dask": the cluster's workers, in chunks
            from any2img.batch.dask_engine import run_on_dask

            run_on_dask(tasks, converter, dst_path, settings_key, finish, bar, workers=workers, **dask)
        elif n_workers == 1 or len(tasks) <= 1 or "memory" in (protocol_of(src_path), protocol_of(dst_path)):
            for task in tasks:
                finish(task, *_convert_source(converter, task, dst_path, settings_key))
                bar.update(1)
        else:
            pool = ProcessPoolExecutor(max_workers=min(n_workers, len(tasks)), initializer=_die_with_parent,
                                       initargs=(os.getpid(),))
            try:
                futures = {
                    pool.submit(_convert_source, converter, t, dst_path, settings_key): t for t in tasks
                }
                for fut in as_completed(futures):
                    finish(futures[fut], *fut.result())
                    bar.update(1)
            finally:  # interrupted (Ctrl-C, SIGTERM through the CLI): drop what has not started
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
        _fold_ledger(dst_path, keep_rows, keep_state)
        write_jsonl(dst_path / ERRORS_NAME, [vars(f) for f in report.failures])
    return report


def _remove_stale_temporaries(dst: Path) -> None:
    """Delete the half-written ``.<name>.<random>.tmp`` files a killed run left (this run holds the lock)."""
    for path in dst.rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)


def _fold_ledger(dst: Path, keep_rows: list[dict[str, Any]], keep_state: list[dict[str, Any]]) -> None:
    """Write the manifest (in a stable order: sources finish out of order) and the state file from what was
    kept plus this run's ledger, then drop the ledger."""
    done = read_done(dst)
    rows = keep_rows + [r for _, entry_rows in done for r in entry_rows]
    write_jsonl(dst / MANIFEST_NAME, sorted(rows, key=lambda r: str(r.get("image"))))
    write_jsonl(dst / STATE_NAME, keep_state + [state for state, _ in done])
    clear_done(dst)


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the worker processes
    """Make a worker end when the converting process dies (SIGKILL included), so no orphan keeps writing.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, the kernel's own mechanism
    (no library offers it portably). Elsewhere only the check at start-up
    below applies.
    """
    import signal

    from any2img.processes import die_with_parent

    die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def still_valid(state: dict[str, Any], rows: list[dict[str, Any]], source_hash: str, settings_key: Any,
                dst: Any) -> bool:
    """Whether a source's recorded conversion stands: same content and settings, complete, its images there."""
    return bool(
        state.get("source_hash") == source_hash
        and state.get("settings") == settings_key
        and state.get("complete")
        and len(rows) == state.get("images")
        and all(isinstance(r.get("image"), str) and (dst / r["image"]).exists() for r in rows)
    )


def _describe(rule: LabelRule) -> Any:
    return rule if rule is None or isinstance(rule, str) else getattr(rule, "__name__", repr(rule))


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, name: str) -> Any:
    if not enabled or total == 0:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"convert {name}", unit="file", file=sys.stderr, dynamic_ncols=True)
