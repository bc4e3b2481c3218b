"""Reading and writing series files: ``.csv``/``.tsv``/``.txt`` tables, ``.npy`` arrays and UCR/UEA ``.ts``.

Every reader returns a list of :class:`~any2img.converter.Record`; a record's
signal is a float array of shape ``(n_channels, n_timestamps)`` (one channel
for a univariate series).

Layouts
-------
``.csv`` / ``.tsv`` / ``.txt``
    One series per row (comma, tab, or any whitespace for ``.txt`` as in the
    old UCR ``*_TRAIN.txt`` files). A first row is a header when one of its
    cells is ``label``, ``class`` or ``target`` (any case) or when most of its
    cells are not numbers. The label column is chosen by ``label_column``
    (see :func:`read_table`: by default a header column named like a label,
    or a text column first or last); every other cell is a value. Cells ``""``,
    ``?``, ``nan``, ``NA``, ``null`` are missing values (NaN, handled later by
    the converter's ``nan_policy``); trailing empty cells are dropped, so
    rows of different lengths hold series of different lengths. A table
    whose rows hold a single value and no label is read as *one* series
    down that column. Record keys are ``row0``, ``row1``, ... counting data
    rows from 0 (blank lines and the header are not counted).
``.npy``
    1-D: one series (key ``""``); 2-D: one univariate series per row;
    3-D: ``(n_samples, n_channels, n_timestamps)``, one multivariate series
    per sample. Keys ``row0``, ``row1``, ...; no labels (they come from the
    folder).
``.ts``
    The UCR/UEA time-series format: ``@`` header lines then ``@data``; one
    case per line, dimensions separated by ``:``, values by ``,``, ``?`` for
    a missing value, the class last when ``@classLabel true``. Univariate,
    multivariate and unequal-length cases are read; ``@timeStamps true`` is
    not supported. Keys ``row0``, ``row1``, ...

Bad rows
--------
A bad row (a cell that is not a number, a row with no value, a case whose
dimensions differ in length) must not sink the rest of its file. Such a row
still yields its record, with a :class:`BadSeries` as the signal: it carries
the :class:`~any2img.errors.InputError` naming the file, row (and line) and
column, and the converter raises that error when the record is segmented or
converted. The batch engine then reports that one record and converts the
others; :meth:`TimeSeriesConverter.read` of a one-series file raises it
directly. Errors about the whole file (unreadable, no ``@data``, unknown label
column) are raised at once.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from any2img.converter import Record
from any2img.datasets.files import write_table, write_ts  # the writers live with the data sets; re-exported
from any2img.errors import InputError, csv_input_error

__all__ = [
    "LABEL_NAMES",
    "TABLE_EXTENSIONS",
    "BadSeries",
    "read_npy",
    "read_series_file",
    "read_table",
    "read_ts",
    "write_table",
    "write_ts",
]

#: Header names that mark the label column when ``label_column="auto"``.
LABEL_NAMES = ("label", "class", "target")
#: Cell texts read as a missing value (compared in lower case).
MISSING = frozenset({"", "?", "nan", "na", "n/a", "null", "none"})
#: Table suffix -> delimiter (``None``: any whitespace).
TABLE_EXTENSIONS: dict[str, str | None] = {".csv": ",", ".tsv": "\t", ".txt": None}


@dataclass(frozen=True)
class BadSeries:
    """The signal of a record that could not be read.

    Attributes
    ----------
    error : InputError
        Why, naming the file, the row and the column.
    """

    error: InputError

    def raise_error(self) -> NoReturn:
        """Raise the stored error."""
        raise self.error


def read_series_file(path: str | os.PathLike[str], *, label_column: Any = "auto") -> list[Record]:
    """Read every series of a file, choosing the reader by suffix.

    Parameters
    ----------
    path : path
        A ``.csv``, ``.tsv``, ``.txt``, ``.npy`` or ``.ts`` file.
    label_column : "auto", str, int or None, default="auto"
        For tables only; see :func:`read_table`.

    Returns
    -------
    list of Record
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_EXTENSIONS:
        return read_table(path, delimiter=TABLE_EXTENSIONS[suffix], label_column=label_column)
    if suffix == ".npy":
        return read_npy(path)
    if suffix == ".ts":
        return read_ts(path)
    raise InputError(
        f"unsupported file type {suffix or '(none)'!r}; series are read from "
        f"{', '.join([*TABLE_EXTENSIONS, '.npy', '.ts'])}",
        path=path,
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError("no such file", path=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", path=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=path) from exc


def _number(cell: str) -> float | None:
    """Return the cell as a float (NaN when missing), or None if it is not a number."""
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _label_text(cell: str) -> str | None:
    """Normalise a label cell: ``"1.0000000e+00"`` -> ``"1"``; empty -> None."""
    text = cell.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    if math.isfinite(value) and value == int(value) and any(c in text for c in ".eE"):
        return str(int(value))
    return text


def _split_lines(text: str, delimiter: str | None) -> list[tuple[int, list[str]]]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split() if delimiter is None else next(csv.reader([line], delimiter=delimiter))
        rows.append((lineno, cells))
    return rows


def _is_header(cells: Sequence[str]) -> bool:
    if any(c.strip().lower() in LABEL_NAMES for c in cells):
        return True
    filled = [c for c in cells if c.strip()]
    text = sum(_number(c) is None for c in filled)
    return bool(filled) and text * 2 > len(filled)


def _label_index(label_column: Any, header: list[str] | None, path: Path) -> int | None:
    if label_column is None:
        return None
    if isinstance(label_column, str) and label_column == "auto":
        if header is None:
            return None
        names = [h.strip().lower() for h in header]
        for wanted in LABEL_NAMES:
            if wanted in names:
                return names.index(wanted)
        return None
    if isinstance(label_column, str):
        if header is None:
            raise InputError(
                f"label_column {label_column!r} names a column, but the file has no header row", path=path
            )
        names = [h.strip() for h in header]
        if label_column not in names:
            shown = ", ".join(repr(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")
            raise InputError(f"label_column {label_column!r} is not a column of the header ({shown})", path=path)
        return names.index(label_column)
    return int(label_column)


def _text_column(rows: list[tuple[int, list[str]]]) -> int | None:
    """Without a header: the first or else the last column, if it holds text (not numbers) in every row."""
    for at in (0, -1):
        if all(len(cells) > 1 and _number(cells[at]) is None for _, cells in rows):
            return at
    return None


_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe", ",": "comma"}


def _shown(cell: str) -> str:
    text = cell.strip()
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _delimiter_hint(cell: str, delimiter: str | None) -> str:
    """Name the delimiter a cell seems to use, when it splits into numbers on one that is not this table's."""
    for other, name in _OTHER_DELIMITERS.items():
        parts = [p for p in cell.split(other) if p.strip()]
        if other != delimiter and len(parts) > 1 and all(_number(p) is not None for p in parts):
            expected = {None: "whitespace", "\t": "tab", ",": "comma"}.get(delimiter, repr(delimiter))
            return (f"; the file seems {name}-delimited ({other!r}), but its suffix makes it a "
                    f"{expected}-delimited table: convert it first")
    return ""


def read_table(path: str | Path, *, delimiter: str | None = ",", label_column: Any = "auto") -> list[Record]:
    """Read a table holding one series per row.

    Parameters
    ----------
    path : path
        The table file.
    delimiter : str or None, default=","
        Cell separator; ``None`` splits on any whitespace.
    label_column : "auto", str, int or None, default="auto"
        ``"auto"``: the header column named ``label``, ``class`` or
        ``target`` (any case), if there is one; without a header, the first
        (else the last) column if it holds text in every row, as in
        ``cat,0.1,0.5,...``; numeric labels without a header need the
        column's index (UCR ``.tsv``/``.txt`` files: ``0``); a str: the header column of
        that name (an error if absent); an int: that column, counting from 0
        (negative counts from the end of each row); ``None``: no label
        column, every cell is a value.

    Returns
    -------
    list of Record
        One per data row, keyed ``row0``, ``row1``, ...; a bad row gives a
        record whose signal is a :class:`BadSeries`.

    Examples
    --------
    >>> p = Path(getfixture("tmp_path")) / "train.csv"
    >>> _ = p.write_text("label,t0,t1,t2\\nA,1,2,3\\nB,4,5,6\\n")
    >>> [(r.key, r.label, r.signal.shape) for r in read_table(p)]
    [('row0', 'A', (1, 3)), ('row1', 'B', (1, 3))]
    """
    path = Path(path)
    try:
        rows = _split_lines(_read_text(path), delimiter)
    except csv.Error as exc:
        raise csv_input_error(exc, path) from exc
    header: list[str] | None = None
    if rows and (_is_header(rows[0][1]) or (isinstance(label_column, str) and label_column != "auto")):
        header = rows.pop(0)[1]
    label_at = _label_index(label_column, header, path)
    if not rows:
        raise InputError("the table holds no series (no data row)", path=path)
    if label_column == "auto" and header is None:
        label_at = _text_column(rows)

    def column_name(j: int) -> str:
        if header is not None and j < len(header) and header[j].strip():
            return f"column {header[j].strip()!r} (index {j})"
        return f"column {j}"

    parsed: list[tuple[int, int, Any, str | None]] = []  # (row, line, values or error, label)
    for i, (lineno, cells) in enumerate(rows):
        where = f"row {i} (line {lineno})"
        label: str | None = None
        indices = list(range(len(cells)))
        if label_at is not None:
            at = label_at if label_at >= 0 else len(cells) + label_at
            if not 0 <= at < len(cells):
                parsed.append((i, lineno, InputError(f"{where} has no label column {label_column!r}", path=path), None))
                continue
            label = _label_text(cells[at])
            indices.remove(at)
        while indices and not cells[indices[-1]].strip():
            indices.pop()
        if not indices:
            parsed.append((i, lineno, InputError(f"{where} holds no value", path=path), label))
            continue
        values = []
        error = None
        for j in indices:
            value = _number(cells[j])
            if value is None:
                error = InputError(f"{where}, {column_name(j)}: {_shown(cells[j])} is not a number"
                                   f"{_delimiter_hint(cells[j], delimiter)}", path=path)
                break
            values.append(value)
        parsed.append((i, lineno, error or np.asarray(values, dtype=np.float64)[None, :], label))

    column = label_at is None and len(parsed) > 1 and all(
        isinstance(v, np.ndarray) and v.shape[1] == 1 for _, _, v, _ in parsed
    )
    if column:  # one series down a single column
        return [Record(np.concatenate([v for _, _, v, _ in parsed], axis=1))]
    return [
        Record(BadSeries(v) if isinstance(v, InputError) else v, key=f"row{i}", label=label)
        for i, _, v, label in parsed
    ]


def read_npy(path: str | Path) -> list[Record]:
    """Read a ``.npy`` array of series (see the module docstring for the layouts)."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise InputError("no such file", path=path) from exc
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"not a readable .npy array of numbers ({exc})", path=path) from exc
    if not isinstance(array, np.ndarray) or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ) or np.iscomplexobj(array):
        raise InputError(f"a .npy of series must hold real numbers (got dtype {array.dtype})", path=path)
    array = array.astype(np.float64)
    if array.ndim == 1:
        return [Record(array[None, :])]
    if array.ndim == 2:
        return [Record(row[None, :], key=f"row{i}") for i, row in enumerate(array)]
    if array.ndim == 3:
        return [Record(sample, key=f"row{i}") for i, sample in enumerate(array)]
    raise InputError(
        "a .npy of series must be 1-D (one series), 2-D (one series per row) or 3-D "
        f"(n_samples, n_channels, n_timestamps) (got shape {array.shape})",
        path=path,
    )


def read_ts(path: str | Path) -> list[Record]:
    """Read a UCR/UEA ``.ts`` file (see the module docstring)."""
    path = Path(path)
    has_label = False
    class_labels: list[str] | None = None
    dimensions: int | None = None
    in_data = False
    records: list[Record] = []
    for lineno, raw in enumerate(_read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise InputError(
                    f"line {lineno}: expected an @keyword line before @data (got {line[:40]!r})", path=path
                )
            key, _, rest = line[1:].partition(" ")
            key, words = key.lower(), rest.split()
            if key == "data":
                in_data = True
            elif key in ("classlabel", "targetlabel"):
                has_label = bool(words) and words[0].lower() == "true"
                if key == "classlabel" and has_label:
                    class_labels = words[1:] or None
            elif key == "timestamps" and words and words[0].lower() == "true":
                raise InputError("'.ts' files with @timeStamps true are not supported", path=path)
            elif key == "dimensions" and words and words[0].isdigit():
                dimensions = int(words[0])
            continue
        i = len(records)
        try:
            signal, label = _ts_case(line, has_label, class_labels, dimensions, f"row {i} (line {lineno})", path)
        except InputError as exc:
            records.append(Record(BadSeries(exc), key=f"row{i}"))
        else:
            records.append(Record(signal, key=f"row{i}", label=label))
    if not in_data:
        raise InputError("no @data line: not a UCR/UEA .ts file", path=path)
    if not records:
        raise InputError("the .ts file holds no series (nothing after @data)", path=path)
    return records


def _ts_case(
    line: str, has_label: bool, class_labels: list[str] | None, dimensions: int | None, where: str, path: Path
) -> tuple[np.ndarray, str | None]:
    fields = line.split(":")
    label = None
    if has_label:
        if len(fields) < 2:
            raise InputError(f"{where} has no class label after its values", path=path)
        label = _label_text(fields.pop())
        if class_labels is not None and label not in class_labels:
            raise InputError(f"{where}: class label {label!r} is not one of @classLabel {class_labels}", path=path)
    if dimensions is not None and len(fields) != dimensions:
        raise InputError(f"{where} has {len(fields)} dimensions, @dimensions says {dimensions}", path=path)
    channels = []
    for d, text in enumerate(fields):
        cells = text.split(",")
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            raise InputError(f"{where}, dimension {d} holds no value", path=path)
        values = []
        for t, cell in enumerate(cells):
            value = _number(cell)
            if value is None:
                raise InputError(f"{where}, dimension {d}, value {t}: {cell.strip()!r} is not a number", path=path)
            values.append(value)
        channels.append(values)
    lengths = sorted({len(c) for c in channels})
    if len(lengths) > 1:
        raise InputError(
            f"{where}: its dimensions have different lengths ({', '.join(str(len(c)) for c in channels)}); "
            "a case must have one length",
            path=path,
        )
    return np.asarray(channels, dtype=np.float64), label
