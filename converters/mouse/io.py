"""Reading mouse logs: Balabit session files, CSV/TSV tables and in-memory tables.

Every reader ends in :func:`clean`, one documented policy for messy logs:

* **time** is the client timestamp for Balabit files (the moment the client
  saw the event; the record timestamp is when the server stored it). Rows
  are sorted by time with a stable sort, so events that share a timestamp
  keep their file order; rows that go back in time are counted
  (``out_of_order_rows``) and put in place.
* **repeated timestamps** are kept (counted as ``repeated_timestamps``); the
  kinematics spread them over the preceding interval and never divide by a
  zero step (see :func:`any2img.converters.mouse.log.effective_times`).
* **bad rows** — a field that is not a finite number, or a row with the wrong
  number of fields — are dropped and counted (``bad_rows``); the first one
  is described in ``first_bad_row`` (row number, field and value, counting
  rows like a spreadsheet: the header is row 1).
* **huge coordinates** — beyond ±:data:`COORD_LIMIT` pixels, such as the
  65535 that Balabit's logger writes when the pointer leaves the remote
  window — are dropped and counted (``out_of_range_rows``): they are not
  positions, and clipping them would draw a false jump to the screen's edge.
  Coordinates that are merely off-screen are kept; the screen-mode drawing
  clips them to its border.
* **scroll events at (0, 0)** — Balabit logs every wheel event there — take
  the position of the event before them (the wheel turns where the pointer
  is), so they neither jump to the corner nor count as movement.
* a file that is empty, lacks a header, lacks a required column, or has no
  usable row raises :class:`~any2img.errors.InputError` naming the file, the
  row and the field.

The counts go into ``Record.meta`` so that ``manifest.jsonl`` reports them.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from any2img.converters.mouse.log import SCROLL, MouseLog, button_code, state_code

from any2img.errors import InputError, csv_input_error

__all__ = [
    "COORD_LIMIT",
    "TIME_CANDIDATES",
    "Columns",
    "as_mouse_log",
    "clean",
    "read_mouse_table",
]

#: Coordinates beyond this many pixels (either sign) are not positions.
COORD_LIMIT = 16384.0
#: Column names tried, in order, when ``time_column`` is not given.
TIME_CANDIDATES = ("client timestamp", "time", "t", "timestamp", "record timestamp")


@dataclass(frozen=True)
class Columns:
    """Which table columns hold the time, position, button and state.

    Names match case-insensitively, ignoring surrounding spaces. ``time=None``
    tries :data:`TIME_CANDIDATES` in order. ``button`` and ``state`` are
    optional: a table without them is all ``"NoButton"`` / ``"Move"``.
    """

    time: str | None = None
    x: str = "x"
    y: str = "y"
    button: str = "button"
    state: str = "state"


def _norm(name: object) -> str:
    return str(name).strip().lower()


def _resolve(names: Sequence[str], columns: Columns, path: object) -> dict[str, int]:
    """Map each field found to its column position; raise naming a missing time, x or y.

    ``time``, ``x`` and ``y`` are always in the result; ``button`` and
    ``state`` only when the table has them.
    """
    lookup: dict[str, int] = {}
    for i, name in enumerate(names):
        lookup.setdefault(_norm(name), i)
    shown = ", ".join(repr(str(n)) for n in names) or "(no columns)"
    found: dict[str, int] = {}
    if columns.time is None:
        hits = [lookup[c] for c in TIME_CANDIDATES if c in lookup]
        if not hits:
            wanted = ", ".join(repr(c) for c in TIME_CANDIDATES)
            raise InputError(
                f"no time column: expected one of {wanted} (or set time_column); the header (row 1) has {shown}",
                path=path,
            )
        found["time"] = hits[0]
    for field in ("time", "x", "y", "button", "state"):
        column = getattr(columns, field)
        if column is not None and _norm(column) in lookup:
            found[field] = lookup[_norm(column)]
    missing = [f"{field} column {getattr(columns, field)!r}" for field in ("time", "x", "y") if field not in found]
    if missing:
        raise InputError(f"missing {' and '.join(missing)}; the header (row 1) has {shown}", path=path)
    return found


@dataclass
class _Problems:
    """Bad rows found while parsing: a mask and the first one described."""

    bad: np.ndarray
    first: str | None = None
    first_row: int = -1

    def note(self, row_number: int, text: str, word: str = "row") -> None:
        """Remember a problem if it is the earliest row seen so far."""
        if self.first is None or row_number < self.first_row:
            self.first, self.first_row = f"{word} {row_number}: {text}", row_number


def _float_column(
    values: Sequence[str], name: str, row_numbers: np.ndarray, problems: _Problems
) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except ValueError:
        pass
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            out[i] = np.nan
            if not problems.bad[i]:
                problems.note(int(row_numbers[i]), f"field {name!r} is not a number ({v!r})")
                problems.bad[i] = True
    return out


def _sniff_delimiter(header_line: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_fast(
    text: str, delimiter: str, header: list[str], where: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """Parse a well-formed table with numpy's C reader; None sends it to the careful path.

    Well-formed means: no quotes, no blank lines, every row with the header's
    number of fields, every time and coordinate a finite number. Anything
    else goes through :mod:`csv`, which finds and reports the bad rows.
    """
    if '"' in text:
        return None
    body = text.rstrip("\n")
    n_lines = body.count("\n") + 1
    if n_lines < 2 or "\n\n" in body or "\r" in body or body.count(delimiter) != (len(header) - 1) * n_lines:
        return None
    opts: dict[str, Any] = {"delimiter": delimiter, "skiprows": 1, "ndmin": 2, "comments": None}
    try:
        num = np.loadtxt(io.StringIO(body), usecols=(where["time"], where["x"], where["y"]), dtype=np.float64,
                         **opts)
        text_cols = [where[f] for f in ("button", "state") if f in where]
        words = np.loadtxt(io.StringIO(body), usecols=text_cols, dtype=str, **opts) if text_cols else None
    except ValueError:
        return None
    if len(num) != n_lines - 1 or not np.isfinite(num).all():
        return None
    button = state = None
    if words is not None:  # the table has a button column, a state column or both
        k = 0
        if "button" in where:
            button, k = words[:, 0], 1
        if "state" in where:
            state = words[:, k]
    return num[:, 0], num[:, 1], num[:, 2], button, state


def read_mouse_table(path: str | os.PathLike[str], columns: Columns | None = None) -> tuple[MouseLog, dict[str, Any]]:
    """Read a mouse log from a Balabit session file or a CSV/TSV table.

    Parameters
    ----------
    path : path
        A text table with a header row. Balabit session files (no suffix;
        columns ``record timestamp, client timestamp, button, state, x, y``)
        are read with the defaults.
    columns : Columns, optional
        Column names; the default finds Balabit's and generic ``time, x, y``.

    Returns
    -------
    log : MouseLog
        The cleaned, time-sorted log.
    meta : dict
        Row counts: ``events``, ``bad_rows``, ``out_of_range_rows``,
        ``dropped_rows``, ``out_of_order_rows``, ``repeated_timestamps``, and
        ``first_bad_row`` when a row was dropped as bad.

    Raises
    ------
    InputError
        The file is unreadable, empty, lacks a required column, or has no
        usable row.
    """
    columns = columns or Columns()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text table (byte {exc.start} cannot be decoded)", path=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc
    if not text.strip():
        raise InputError("the file is empty; expected a header row naming the time, x and y columns", path=path)
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line, path.suffix.lower())
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise csv_input_error(exc, path) from exc
    where = _resolve(header, columns, path)
    names = {field: header[i] for field, i in where.items()}
    button: Sequence[Any] | np.ndarray | None
    state: Sequence[Any] | np.ndarray | None
    fast = _read_fast(text, delimiter, header, where)
    if fast is not None:
        t, x, y, button, state = fast
        return clean(t, x, y, button, state, source=path, row_numbers=np.arange(2, len(t) + 2), names=names)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise csv_input_error(exc, path) from exc
    row_numbers = np.arange(2, len(rows) + 2)
    if not all(rows):  # drop blank lines, keep the numbering of the others
        kept = [i for i, r in enumerate(rows) if r]
        rows = [rows[i] for i in kept]
        row_numbers = row_numbers[kept]
    if not rows:
        raise InputError("no data rows after the header (row 1)", path=path)
    n_fields = len(header)
    problems = _Problems(np.zeros(len(rows), dtype=bool))
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero(lengths != n_fields)
    if len(wrong):
        problems.bad[wrong] = True
        i = int(wrong[0])
        problems.note(int(row_numbers[i]), f"has {lengths[i]} fields, the header has {n_fields}")
        filler = [""] * n_fields
        rows = [r if len(r) == n_fields else filler for r in rows]
    cols = list(zip(*rows))
    t = _float_column(cols[where["time"]], names["time"], row_numbers, problems)
    x = _float_column(cols[where["x"]], names["x"], row_numbers, problems)
    y = _float_column(cols[where["y"]], names["y"], row_numbers, problems)
    button = cols[where["button"]] if "button" in where else None
    state = cols[where["state"]] if "state" in where else None
    return clean(
        t, x, y, button, state, source=path, row_numbers=row_numbers, problems=problems, names=names,
    )


def clean(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    button: Sequence[Any] | np.ndarray | None = None,
    state: Sequence[Any] | np.ndarray | None = None,
    *,
    source: object = None,
    row_numbers: np.ndarray | None = None,
    problems: _Problems | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[MouseLog, dict[str, Any]]:
    """Apply the module's cleaning policy to raw columns; return the log and counts.

    ``row_numbers`` (how rows are named in messages) defaults to the index
    from 0, as for arrays. See the module docstring for the policy.
    """
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(t)
    if len(x) != n or len(y) != n:
        raise InputError(f"time, x and y must have the same length (got {n}, {len(x)}, {len(y)})", path=source)
    names = dict(names or {})
    label = {f: names.get(f, f) for f in ("time", "x", "y")}
    numbers = np.arange(n) if row_numbers is None else row_numbers
    problems = problems or _Problems(np.zeros(n, dtype=bool))
    word = "row" if row_numbers is not None else "index"
    for field, values in (("time", t), ("x", x), ("y", y)):
        nonfinite = ~np.isfinite(values) & ~problems.bad
        if nonfinite.any():
            i = int(np.flatnonzero(nonfinite)[0])
            problems.note(int(numbers[i]), f"field {label[field]!r} is not a finite number ({values[i]})", word)
            problems.bad |= nonfinite
    bad = problems.bad
    huge = ~bad & ((np.abs(x) > COORD_LIMIT) | (np.abs(y) > COORD_LIMIT))
    keep = ~(bad | huge)
    n_bad, n_huge = int(bad.sum()), int(huge.sum())
    if not keep.any():
        detail = problems.first or (
            f"{word} {numbers[int(np.flatnonzero(huge)[0])]}: coordinates beyond ±{COORD_LIMIT:g} px"
            if n_huge else "no rows"
        )
        raise InputError(
            f"no usable rows: all {n} rows were dropped ({n_bad} bad, {n_huge} with coordinates beyond "
            f"±{COORD_LIMIT:g} px; first: {detail})",
            path=source,
        )
    b = np.zeros(n, np.int8) if button is None else button_code(np.asarray(button))
    s = np.zeros(n, np.int8) if state is None else state_code(np.asarray(state))
    if len(b) != n or len(s) != n:
        raise InputError(f"button and state must have {n} values like time (got {len(b)}, {len(s)})", path=source)
    t, x, y, b, s = t[keep], x[keep], y[keep], b[keep], s[keep]
    steps = np.diff(t)
    n_back = int((steps < 0).sum())
    if n_back:
        order = np.argsort(t, kind="stable")
        t, x, y, b, s = t[order], x[order], y[order], b[order], s[order]
        steps = np.diff(t)
    x, y = _place_scrolls(x, y, b)
    meta: dict[str, Any] = {
        "events": int(keep.sum()),
        "bad_rows": n_bad,
        "out_of_range_rows": n_huge,
        "dropped_rows": n_bad + n_huge,
        "out_of_order_rows": n_back,
        "repeated_timestamps": int((steps == 0).sum()),
    }
    if problems.first is not None:
        meta["first_bad_row"] = problems.first
    return MouseLog(t, x, y, b, s), meta


def _place_scrolls(x: np.ndarray, y: np.ndarray, button: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give scroll events logged at (0, 0) the pointer position before them."""
    lost = (button == SCROLL) & (x == 0) & (y == 0)
    if not lost.any():
        return x, y
    known = ~lost
    if not known.any():
        return x, y
    idx = np.where(known, np.arange(len(x)), -1)
    np.maximum.accumulate(idx, out=idx)
    idx[idx < 0] = np.flatnonzero(known)[0]  # leading scrolls: the first known position
    return x[idx], y[idx]


def as_mouse_log(
    data: Any, columns: Columns | None = None, *, source: object = None
) -> tuple[MouseLog, dict[str, Any]]:
    """Turn what a Python user holds into a cleaned :class:`MouseLog`.

    Parameters
    ----------
    data : MouseLog, path, mapping, DataFrame-like, structured array or ndarray
        * a :class:`MouseLog` is returned as it is (it is trusted to be clean);
        * a path (``str`` or ``Path``) is read with :func:`read_mouse_table`;
        * a mapping (``{"time": [...], "x": [...], "y": [...]}``), a
          DataFrame-like object (``.columns`` and ``obj[name]``) or a numpy
          structured array is read by column name, as a file would be;
        * a 2-D numeric array of shape ``(n, 3)`` holds ``time, x, y``.
    columns : Columns, optional
        Column names for tables.

    Returns
    -------
    log : MouseLog
    meta : dict
        Row counts, as :func:`read_mouse_table` gives.

    Examples
    --------
    >>> log, meta = as_mouse_log({"time": [0.2, 0.1], "x": [1, 2], "y": [3, 65535]})
    >>> log.t.tolist(), meta["out_of_range_rows"]
    ([0.2], 1)
    """
    columns = columns or Columns()
    if isinstance(data, MouseLog):
        return data, {"events": len(data)}
    if isinstance(data, (str, Path)):
        return read_mouse_table(data, columns)
    table: dict[str, Any] | None = None
    if isinstance(data, Mapping):
        table = dict(data)
    elif hasattr(data, "columns") and hasattr(data, "__getitem__") and not isinstance(data, np.ndarray):
        table = {str(c): data[c] for c in list(data.columns)}
    elif isinstance(data, np.ndarray) and data.dtype.names:
        table = {name: data[name] for name in data.dtype.names}
    if table is not None:
        keys = list(table)
        where = _resolve([str(k) for k in keys], columns, source or "table")

        def col(field: str) -> Any:
            i = where.get(field)
            return None if i is None else np.asarray(table[keys[i]])

        names = {f: str(keys[i]) for f, i in where.items()}
        try:
            t, x, y = (np.asarray(col(f), dtype=np.float64) for f in ("time", "x", "y"))
        except (TypeError, ValueError) as exc:
            raise InputError(f"time, x and y columns must be numeric ({exc})", path=source) from exc
        return clean(t, x, y, col("button"), col("state"), source=source, names=names)
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"cannot read a mouse log from {type(data).__name__}: expected a MouseLog, a path, a table with "
            f"time, x and y columns, or an (n, 3) array of time, x, y",
            path=source,
        ) from exc
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputError(
            f"an array mouse log must have shape (n_events, 3) holding time, x, y (got shape {arr.shape})",
            path=source,
        )
    return clean(arr[:, 0], arr[:, 1], arr[:, 2], source=source)
