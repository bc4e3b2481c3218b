"""Convert a folder (or one table file) of raw signals into labelled PNGs.

The engine behind :func:`any2img.convert_dir` and ``any2img convert``:

* sources are the files under ``src`` that the converter accepts, in sorted
  order (or ``src`` itself when it is a file, e.g. a table of series);
* each source yields records (a table yields one per row), each record
  windows, each window one PNG under ``dst/[split/]label/``;
* work is spread over worker processes in small *batches* of sources, one
  batch per task (see :func:`plan_batches`): a batch is one source, except
  that small sources are grouped, up to :data:`MAX_BATCH` of them and
  :data:`MAX_BATCH_BYTES` together, and only so far that each worker still
  gets about :data:`TASKS_PER_WORKER` tasks. Each worker receives the
  converter once, when it starts, not with every task, and workers take
  turns between image folders (see :func:`_across_folders`);
* PNGs are written atomically; the worker that finishes a batch records it
  at once (the state lines and manifest rows of its sources, one file renamed
  into ``.any2img-done/`` after one ``fsync``), so a run killed at any point,
  even by SIGKILL, loses at most the sources *in flight*: those of the batch
  each worker was converting (at most ``MAX_BATCH`` per worker, a single
  source when sources are large). An interrupted batch (Ctrl-C, an error)
  still records the sources it finished. The run folds that ledger into
  ``manifest.jsonl`` when it ends (or is interrupted), a rerun folds in what
  a killed run left, and converts only sources that are new, changed, failed
  or whose images are missing;
* a bad source or record is reported (path and reason) and skipped; the rest
  still converts. The report says how many failed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
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
    atomic_write_bytes,
    clear_done,
    file_hash,
    manifest_line,
    read_done,
    read_done_lines,
    read_jsonl,
    write_done,
    write_done_batch,
    write_jsonl,
    write_png,
)
from any2img.converter import Converter, check_rgb
from any2img.errors import Any2ImgError, InputError, ParameterError, csv_input_error
from any2img.registry import get_converter
from any2img.storage import as_location, is_local, protocol_of, read_records

__all__ = ["MAX_BATCH", "MAX_BATCH_BYTES", "TASKS_PER_WORKER", "ConversionReport", "Failure", "convert_dir",
           "find_sources", "plan_batches"]

CONVERSION_NAME = "conversion.json"

#: The most sources in one batch (one task, one ledger file): what a worker killed mid-batch can cost.
MAX_BATCH = 16
#: The most bytes of source files in one batch; a larger source is a batch of its own.
MAX_BATCH_BYTES = 1 << 20
#: Batches are made no larger than needed for each worker to get about this many (for an even spread).
TASKS_PER_WORKER = 8


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
    #: Parameters taken from the sources, not given (e.g. ``{"sample_rate": 8000}``: see
    #: ``Converter.params_from_sources``); in the manifest's converter parameters like the others.
    from_sources: dict[str, Any] = field(default_factory=dict)

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
            + "".join(f"; {k}={v} taken from the sources" for k, v in self.from_sources.items())
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
    size: int = 0  # bytes of the source file (0 when unknown: a URL)


def plan_batches(sizes: Sequence[int], workers: int) -> list[range]:
    """Group sources (their sizes in bytes, in order) into batches: consecutive index ranges.

    A batch holds at most ``ceil(n / (TASKS_PER_WORKER * workers))`` and at
    most :data:`MAX_BATCH` sources, and at most :data:`MAX_BATCH_BYTES`
    together (a source larger than that is a batch of its own), so small
    sources share a task, its fsync and its ledger file, while each worker
    still gets about ``TASKS_PER_WORKER`` tasks to balance the load.

    Examples
    --------
    >>> [len(b) for b in plan_batches([100] * 40, workers=2)]
    [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1]
    >>> [len(b) for b in plan_batches([100] * 1000, workers=2)][:3]
    [16, 16, 16]
    """
    cap = max(1, min(MAX_BATCH, math.ceil(len(sizes) / (TASKS_PER_WORKER * max(workers, 1)))))
    batches: list[range] = []
    start, total = 0, 0
    for i, size in enumerate(sizes):
        if i > start and (i - start >= cap or total + size > MAX_BATCH_BYTES):
            batches.append(range(start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        batches.append(range(start, len(sizes)))
    return batches


def _size_of(path: Path) -> int:
    """A local file's size in bytes; 0 for a URL (a remote stat costs a request, and sizes only shape batches)."""
    if hasattr(path, "fs") or not isinstance(path, os.PathLike):  # a upath.UPath of any2img.storage
        return 0
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _state(task: _Task, rows: list[dict[str, Any]], failures: list[Failure], settings_key: str) -> dict[str, Any]:
    """A source's line of the state file: what a rerun checks before skipping it."""
    return {"source": task.relative.as_posix(), "source_hash": task.source_hash, "settings": settings_key,
            "images": len(rows), "complete": not failures}


def _convert_source(converter: Converter, task: _Task, dst: Path,
                    settings_key: str = "") -> tuple[list[dict[str, Any]], list[Failure]]:
    """Convert one source and record it in the ledger (a file of its own: the Dask engine's unit)."""
    rows, failures = _convert_records(converter, task, dst)
    write_done(dst, _state(task, rows, failures, settings_key), rows)
    return rows, failures


@dataclass(frozen=True)
class _Job:
    """What every task of a run shares: sent to each worker once, when it starts."""

    converter: Converter
    dst: Path
    settings_key: str


def _convert_batch(job: _Job, tasks: Sequence[_Task]) -> list[tuple[int, list[Failure]]]:
    """Convert a batch of sources and record them in the ledger as one file; ``(images, failures)`` per source.

    Never raises for bad input (returns failures). When interrupted (Ctrl-C
    in-process, an unexpected error) the sources already finished are still
    recorded. The rows go to the ledger only: the parent reads them from
    there when it folds the ledger, so they are not sent back.
    """
    entries: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    out: list[tuple[int, list[Failure]]] = []
    params, safe_folders = job.converter.get_params(), set[Path]()
    try:
        for task in tasks:
            rows, failures = _convert_records(job.converter, task, job.dst, params=params,
                                              safe_folders=safe_folders)
            entries.append((_state(task, rows, failures, job.settings_key), rows))
            out.append((len(rows), failures))
    finally:
        write_done_batch(job.dst, entries)
    return out


_WORKER_JOB: _Job | None = None  # set in each worker process by _start_worker


def _start_worker(parent: int, job: _Job) -> None:  # pragma: no cover - runs in the worker processes
    """Pool initializer: tie the worker's life to the parent's, and keep the run's job for every task."""
    global _WORKER_JOB
    _die_with_parent(parent)
    _WORKER_JOB = job


def _convert_batch_in_worker(tasks: Sequence[_Task]) -> list[tuple[int, list[Failure]]]:  # pragma: no cover
    """A pool task: one batch, with the job the worker received when it started."""
    if _WORKER_JOB is None:
        raise RuntimeError("a convert_dir worker was started without its job")
    return _convert_batch(_WORKER_JOB, tasks)


def _convert_records(converter: Converter, task: _Task, dst: Path, *, params: dict[str, Any] | None = None,
                     safe_folders: set[Path] | None = None) -> tuple[list[dict[str, Any]], list[Failure]]:
    """Convert one source's records into PNGs; its manifest rows and failures.

    A batch passes the converter's ``params`` (worked out once) and the set
    of image folders it has already checked lead nowhere outside ``dst``
    (checking resolves every part of the path: a dozen system calls).
    """
    rel = task.relative.as_posix()
    rows: list[dict[str, Any]] = []
    failures: list[Failure] = []
    split = split_of(task.relative)
    stem_parts = list(task.relative.with_suffix("").parts)
    if split is not None and len(stem_parts) > 1:
        stem_parts = stem_parts[1:]
    base = "__".join(_safe(p) for p in stem_parts)
    params = converter.get_params() if params is None else params
    safe_folders = set() if safe_folders is None else safe_folders
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
                if folder not in safe_folders:
                    if not folder.resolve().is_relative_to(dst.resolve()):  # a symlinked label folder, say
                        raise InputError(f"the image folder {folder.relative_to(dst).as_posix()!r} leads outside "
                                         "the destination (a symbolic link?); refusing to write there")
                    safe_folders.add(folder)
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
        Converter parameters when ``converter`` is a name. Defaults that
        follow from the sources fill in what they leave out (the converter
        class's ``params_from_sources``: audio keeps the files' own
        ``sample_rate`` where most are recorded below 16 kHz); the report's
        ``from_sources`` says which.
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
    name = converter if isinstance(converter, str) else None
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
    from_sources: dict[str, Any] = {}
    if name is not None:
        converter, from_sources = _fitted_to_sources(name, converter, params or {}, sources,
                                                     dst_path if resume else None)
    if dst_path.exists() and not dst_path.is_dir():
        raise ParameterError(f"'dst' must be a folder to write the images into (got the file {str(dst_path)!r}).")
    dst_path.mkdir(parents=True, exist_ok=True)
    with _locked(dst_path):
        report = _convert_locked(converter, src_path, dst_path, sources, label_of, group_of, label_from, group_from,
                                 resume=resume, workers=workers, progress=progress,
                                 dask=None if engine == "local" else {"scheduler": scheduler,
                                                                      "chunk_size": chunk_size})
    report.from_sources = from_sources
    return report


def _recorded_params(dst: Path | None, name: str) -> dict[str, Any]:
    """The converter parameters ``dst/conversion.json`` records for converter ``name`` (``{}``: none)."""
    if dst is None:
        return {}
    try:
        info = json.loads((dst / CONVERSION_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(info, dict) or info.get("converter") != name or not isinstance(info.get("params"), dict):
        return {}
    return dict(info["params"])


def _fitted_to_sources(name: str, converter: Converter, given: dict[str, Any], sources: Sequence[Path],
                       earlier: Path | None) -> tuple[Converter, dict[str, Any]]:
    """The named converter with the defaults its class takes from ``sources`` (the given parameters win).

    ``earlier`` is the destination of a resumed run: where its
    ``conversion.json`` records the same converter, the values it holds for
    those defaults stand, so that adding files to the sources never redraws
    the pictures already made at another rate. Where the defaults clash with
    a given parameter (``fmax=6000`` given, 8 kHz sources), the given
    parameters alone stand, as without the rule.
    """
    cls = type(converter)
    open_keys = [k for k in cls.source_params if k not in given]
    if not open_keys:
        return converter, {}
    recorded = _recorded_params(earlier, name)
    if all(k in recorded for k in open_keys):
        taken = {k: recorded[k] for k in open_keys}
    else:
        taken = {k: v for k, v in cls.params_from_sources(sources).items() if k in open_keys}
    defaults = cls.param_defaults()
    taken = {k: v for k, v in taken.items() if v != defaults.get(k)}
    if not taken:
        return converter, {}
    try:
        fitted = get_converter(name, **{**taken, **given})
        fitted.check_params()
    except ParameterError:
        return converter, {}
    return fitted, taken


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
                tasks.append(_Task(path, rel, digest, label_of(path), group_of(path), _size_of(path)))
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

    def finish(task: _Task, images: int, failures: list[Failure]) -> None:
        report.images += images
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
        else:
            _run_local(tasks, _Job(converter, dst_path, settings_key), finish, bar,
                       1 if "memory" in (protocol_of(src_path), protocol_of(dst_path)) else n_workers)
    finally:
        bar.close()
        _fold_ledger(dst_path, keep_rows, keep_state)
        write_jsonl(dst_path / ERRORS_NAME, [vars(f) for f in report.failures])
    return report


def _run_local(tasks: list[_Task], job: _Job, finish: Any, bar: Any, n_workers: int) -> None:
    """Convert ``tasks`` in batches, in this process (one worker) or on a pool of ``n_workers`` processes."""
    batches = [[tasks[i] for i in b] for b in plan_batches([t.size for t in tasks], n_workers)]

    def done(batch: list[_Task], results: list[tuple[int, list[Failure]]]) -> None:
        for task, (images, failures) in zip(batch, results):
            finish(task, images, failures)
        bar.update(len(batch))

    if n_workers == 1 or len(batches) <= 1:
        for batch in batches:
            done(batch, _convert_batch(job, batch))
        return
    pool = ProcessPoolExecutor(max_workers=min(n_workers, len(batches)), initializer=_start_worker,
                               initargs=(os.getpid(), job))
    try:
        futures = {pool.submit(_convert_batch_in_worker, b): b for b in _across_folders(batches)}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    finally:  # interrupted (Ctrl-C, SIGTERM through the CLI): drop what has not started
        pool.shutdown(wait=True, cancel_futures=True)


def _across_folders(batches: list[list[_Task]]) -> list[list[_Task]]:
    """The batches in an order that takes turns between image folders (a batch's first source's split and label).

    Sorted sources come folder by folder, so workers taking batches in that
    order would all write into one folder at once, and creating a file
    holds its folder's lock: on a file system where creating a file is slow
    the workers would wait on each other. Taking turns keeps them in
    different folders; the outputs do not depend on the order.
    """
    groups: dict[tuple[str | None, str | None], list[list[_Task]]] = {}
    for batch in batches:
        groups.setdefault((split_of(batch[0].relative), batch[0].label), []).append(batch)
    queues = list(groups.values())
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def _remove_stale_temporaries(dst: Path) -> None:
    """Delete the half-written ``.<name>.<random>.tmp`` files a killed run left (this run holds the lock)."""
    for path in dst.rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)


def _fold_ledger(dst: Path, keep_rows: list[dict[str, Any]], keep_state: list[dict[str, Any]]) -> None:
    """Write the manifest and the state file from what was kept plus this run's ledger, then drop the ledger.

    Both in a stable order (sources finish out of order, and batches depend
    on the worker count): the manifest by image, the state file by source.
    The ledger's rows arrive as finished manifest lines and are not parsed.
    """
    done = read_done_lines(dst)
    lines = [(str(r.get("image")), manifest_line(r)) for r in keep_rows]
    lines += [pair for _, pairs in done for pair in pairs]
    lines.sort()  # by image; the line itself orders two rows of one image name (not by batch)
    atomic_write_bytes(dst / MANIFEST_NAME, "".join(line for _, line in lines).encode("utf-8"))
    states = keep_state + [state for state, _ in done]
    write_jsonl(dst / STATE_NAME, sorted(states, key=lambda s: str(s.get("source"))))
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
