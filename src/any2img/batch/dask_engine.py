"""The ``dask`` engine of :func:`~any2img.batch.convert_dir.convert_dir`: sources converted on a Dask cluster.

``convert_dir(..., engine="dask", scheduler="tcp://HOST:8786")`` (or
``any2img convert --engine dask --scheduler tcp://HOST:8786``) hands the
sources to the workers of a running ``dask.distributed`` scheduler instead of
a local process pool. Everything else is the local engine's: each source is
converted by the same function, which writes its PNGs atomically and records
the source in the destination's ledger before it returns, and the client
process folds the ledger into ``manifest.jsonl`` exactly as a local run does,
so the outputs are the same byte for byte and a rerun resumes either way.

* **Chunks.** Sources go to the scheduler in chunks (one Dask task each),
  about four per worker thread and at most :data:`MAX_CHUNK` sources, so that
  a million sources make some 16,000 tasks, not a million: the scheduler
  handles a few thousand tasks a second, a worker converts a source in tens
  of milliseconds.
* **Faults.** A worker that dies takes only its chunk in flight with it: the
  scheduler runs that task again on another worker (its
  ``distributed.scheduler.allowed-failures``, 3 by default), and an error
  raised inside a chunk (a flaky object store) is retried ``retries`` times.
  The second run of a chunk skips the sources the first one had recorded in
  the ledger (see :func:`convert_chunk`), so only the source in flight is
  converted again; results are released as soon as the client has them, so
  chunks finished earlier on the dead worker are not recomputed either.
* **Places.** The workers read ``src`` and write ``dst`` themselves, so both
  must be reachable from every worker under the same name: a shared file
  system, or an fsspec URL (``s3://``, ``gs://``, ``az://``) — see
  :mod:`any2img.storage`. ``memory://`` is one process's memory and is
  refused here.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from any2img.errors import ParameterError
from any2img.storage import as_location, protocol_of, require

__all__ = ["ENGINES", "MAX_CHUNK", "check_engine", "chunk_sources", "convert_chunk", "run_on_dask"]

#: The engines ``convert_dir`` knows.
ENGINES = ("local", "dask")

#: The most sources one Dask task converts (what a dying worker can cost).
MAX_CHUNK = 64


def check_engine(engine: str, scheduler: Any, src: Any, dst: Any) -> None:
    """Refuse an unknown engine, a scheduler without the dask engine, or ``memory://`` with dask; before any work.

    Raises
    ------
    ParameterError
        As above.
    MissingDependencyError
        ``engine="dask"`` without ``dask.distributed`` installed (the
        ``any2img[distributed]`` extra).
    """
    if engine not in ENGINES:
        raise ParameterError(f"'engine' must be one of {list(ENGINES)} (got {engine!r}).")
    if engine == "local":
        if scheduler is not None:
            raise ParameterError("'scheduler' is only used with engine='dask'.")
        return
    require("distributed", "engine='dask'")
    for name, where in (("src", src), ("dst", dst)):
        if protocol_of(where) == "memory":
            raise ParameterError(f"'{name}' is a memory:// location, which lives in this process only; Dask workers "
                                 f"cannot see it. Use a shared folder or an object-store URL, or engine='local'.")


def chunk_sources(n_sources: int, n_threads: int, chunk_size: int | None = None) -> int:
    """Sources per Dask task: ``chunk_size`` when given, else about four tasks per worker thread, <= MAX_CHUNK."""
    if chunk_size is not None:
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ParameterError(f"'chunk_size' must be an int >= 1 (got {chunk_size!r}).")
        return chunk_size
    return max(1, min(MAX_CHUNK, math.ceil(n_sources / (4 * max(n_threads, 1)))))


def convert_chunk(converter: Any, tasks: Sequence[Any], dst: Any, settings_key: str) -> list[tuple[int, Any]]:
    """Convert a chunk of sources on a worker: ``[(images, failures), ...]`` in the order of ``tasks``.

    The rows stay in the ledger, where the parent reads them when it folds it;
    only their counts travel back.

    A source this run already recorded in the ledger (same content, same
    settings, complete, its images there) is not converted again: when a chunk
    runs a second time because its worker died, only the sources that were in
    flight are redone.
    """
    from any2img.batch.convert_dir import _convert_source, still_valid
    from any2img.batch.manifest import read_done_entry

    out: list[tuple[int, Any]] = []
    for task in tasks:
        entry = read_done_entry(dst, task.relative.as_posix())
        if entry is not None and still_valid(entry[0], entry[1], task.source_hash, settings_key, dst):
            out.append((len(entry[1]), []))
            continue
        rows, failures = _convert_source(converter, task, dst, settings_key)
        out.append((len(rows), failures))
    return out


def _client(scheduler: Any, workers: int | None) -> tuple[Any, Callable[[], None]]:
    """A ``distributed.Client`` for ``scheduler`` and how to release it.

    ``scheduler`` is an address (``tcp://host:port``), a ``Client`` (used as
    it is, left open), a ``LocalCluster`` or similar (anything with
    ``scheduler_address``), or None for a temporary local cluster of
    ``workers`` single-threaded processes.
    """
    distributed = require("distributed", "engine='dask'")
    if isinstance(scheduler, distributed.Client):
        return scheduler, lambda: None
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster, set_as_default=False)

        def close_both() -> None:
            client.close()
            cluster.close()

        return client, close_both
    address = getattr(scheduler, "scheduler_address", scheduler)
    if not isinstance(address, str):
        raise ParameterError(f"'scheduler' must be an address such as 'tcp://host:8786', a distributed.Client or "
                             f"None (got {scheduler!r}).")
    try:
        client = distributed.Client(address, set_as_default=False, timeout="30s")
    except OSError as exc:
        raise ParameterError(f"cannot reach the Dask scheduler at {address!r} ({exc}).") from exc
    return client, client.close


def _absolute(where: Any) -> Any:
    """Local paths made absolute (workers may not share the client's working folder); URLs as they are."""
    return where.resolve() if isinstance(where, Path) else where


def run_on_dask(
    tasks: Sequence[Any],
    converter: Any,
    dst: Any,
    settings_key: str,
    finish: Callable[[Any, int, list[Any]], None],
    bar: Any,
    *,
    scheduler: Any = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    retries: int = 2,
) -> None:
    """Convert ``tasks`` on a Dask cluster, calling ``finish(task, images, failures)`` as each chunk comes back.

    Parameters
    ----------
    tasks : sequence of convert_dir's tasks
    converter : Converter
    dst : path or UPath
        The destination, as every worker reaches it.
    settings_key : str
        The converter settings recorded in each source's ledger entry.
    finish : callable
        Called once per source, in the client process.
    bar : progress bar
        ``update(1)`` per source.
    scheduler : str, Client or None
        See :func:`_client`.
    workers : int, optional
        Workers of the temporary local cluster when ``scheduler`` is None.
    chunk_size : int, optional
        Sources per Dask task; default from :func:`chunk_sources`.
    retries : int, default=2
        Extra attempts of a chunk that raised (a dead worker's chunk is
        rescheduled by the scheduler on its own).
    """
    if not tasks:
        return
    distributed = require("distributed", "engine='dask'")
    dst = _absolute(as_location(dst))
    tasks = [replace(t, path=_absolute(t.path)) for t in tasks]
    client, release = _client(scheduler, workers)
    futures: list[Any] = []
    try:
        threads = sum(client.nthreads().values()) or 1
        size = chunk_sources(len(tasks), threads, chunk_size)
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        token = uuid.uuid4().hex[:12]
        by_key: dict[str, list[Any]] = {}
        for i, chunk in enumerate(chunks):
            future = client.submit(convert_chunk, converter, chunk, dst, settings_key, pure=False, retries=retries,
                                   key=f"any2img-convert-{token}-{i}")
            futures.append(future)
            by_key[future.key] = chunk
        for future in distributed.as_completed(futures):
            results = future.result()
            future.release()  # a fetched result must not be recomputed when its worker dies later
            for task, (images, failures) in zip(by_key.pop(future.key), results):
                finish(task, images, failures)
                bar.update(1)
    finally:  # interrupted: the chunks not yet run are dropped, as the local pool drops unstarted sources
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        release()
