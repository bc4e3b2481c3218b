"""The Free Spoken Digit Dataset (FSDD): finding it, listing it, splitting it.

3,000 mono 8 kHz WAV recordings of the digits 0-9 by 6 speakers, 50 takes
each, named ``{digit}_{speaker}_{take}.wav``. Licence: CC BY-SA 4.0. Nothing
here downloads: get the ``recordings`` folder from :data:`FSDD_URL` (or the
archive :data:`FSDD_ARCHIVE_URL`) and point :func:`fsdd_root` at it with an
argument or the ``ANY2IMG_FSDD`` environment variable.

Two splits are standard:

* :func:`official_split` — takes 0-4 are the test set (300 clips), takes
  5-49 train (2,700);
* :func:`speaker_split` — one speaker held out (speaker-independent, much
  harder).

The file name pattern :data:`FILENAME_REGEX` has the named groups ``label``
(digit), ``group`` (speaker) and ``take``, so it serves directly as the
``--label-from`` and ``--group-from`` of ``any2img convert``::

    any2img convert mel recordings OUT --param sample_rate=8000 \\
        --label-from '(?P<label>\\d)_(?P<group>[a-z]+)_(?P<take>\\d+)\\.wav$' \\
        --group-from '(?P<label>\\d)_(?P<group>[a-z]+)_(?P<take>\\d+)\\.wav$'
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from any2img.errors import InputError, ParameterError

__all__ = [
    "ENV_VAR",
    "FILENAME_REGEX",
    "FSDD_ARCHIVE_URL",
    "FSDD_RECORDINGS_URL",
    "FSDD_URL",
    "SAMPLE_RATE",
    "SPEAKERS",
    "FsddItem",
    "fsdd_root",
    "link_split",
    "list_fsdd",
    "official_split",
    "parse_name",
    "speaker_split",
]

#: The public repository of the dataset.
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset"
#: The folder of WAV files inside it.
FSDD_RECORDINGS_URL = f"{FSDD_URL}/tree/master/recordings"
#: A zip of the whole repository (the recordings are under ``recordings/``).
FSDD_ARCHIVE_URL = f"{FSDD_URL}/archive/refs/heads/master.zip"
#: Environment variable naming the local ``recordings`` folder.
ENV_VAR = "ANY2IMG_FSDD"
#: Sample rate of every recording (Hz). Give converters ``sample_rate=8000``
#: (or ``fmax=4000``) so no image rows are spent above the recordings' Nyquist.
SAMPLE_RATE = 8000
#: The six speakers of the released dataset.
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
#: File names: ``label`` is the digit, ``group`` the speaker, ``take`` the take.
FILENAME_REGEX = r"^(?P<label>\d)_(?P<group>[a-z]+)_(?P<take>\d+)\.wav$"

_NAME = re.compile(FILENAME_REGEX)
#: Takes below this number form the official test set.
_TEST_TAKES = 5


@dataclass(frozen=True, order=True)
class FsddItem:
    """One recording.

    Attributes
    ----------
    path : Path
    digit : int
        The spoken digit, 0-9 (the label).
    speaker : str
    take : int
        0-49.
    """

    path: Path
    digit: int
    speaker: str
    take: int

    @property
    def label(self) -> str:
        """The digit as a class label (``"0"`` … ``"9"``)."""
        return str(self.digit)


def fsdd_root(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the local folder of FSDD recordings.

    Parameters
    ----------
    path : path, optional
        The folder; otherwise ``$ANY2IMG_FSDD``. There is no default
        location: the package never guesses a path from where it is
        installed.

    Raises
    ------
    InputError
        When neither names a folder, or the folder does not exist; the
        message says where to get it.
    """
    if path is not None:
        root, how = Path(path).expanduser(), "the given path"
    elif os.environ.get(ENV_VAR):
        root, how = Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    else:
        raise InputError(
            f"no FSDD recordings folder given; download the 'recordings' folder from {FSDD_RECORDINGS_URL} "
            f"(or {FSDD_ARCHIVE_URL}) and pass its path or set {ENV_VAR}"
        )
    if not root.is_dir():
        raise InputError(
            f"no FSDD recordings folder here ({how}); download the 'recordings' folder from {FSDD_RECORDINGS_URL} "
            f"(or {FSDD_ARCHIVE_URL}) and pass its path or set {ENV_VAR}",
            path=root,
        )
    return root


def parse_name(name: str) -> tuple[int, str, int] | None:
    """Return ``(digit, speaker, take)`` of an FSDD file name, or None if it is not one.

    Examples
    --------
    >>> parse_name("7_theo_42.wav")
    (7, 'theo', 42)
    """
    match = _NAME.match(name)
    if match is None:
        return None
    return int(match["label"]), match["group"], int(match["take"])


def list_fsdd(root: str | os.PathLike[str] | None = None) -> list[FsddItem]:
    """List the recordings, sorted by digit, speaker and take.

    Files whose names do not follow ``{digit}_{speaker}_{take}.wav`` are
    ignored.

    Parameters
    ----------
    root : path, optional
        See :func:`fsdd_root`.

    Raises
    ------
    InputError
        When the folder is missing or holds no FSDD recording.
    """
    folder = fsdd_root(root)
    items = []
    for path in folder.iterdir():
        parsed = parse_name(path.name)
        if parsed is not None and path.is_file():
            items.append(FsddItem(path, *parsed))
    if not items:
        raise InputError("the folder holds no FSDD recording named {digit}_{speaker}_{take}.wav", path=folder)
    return sorted(items, key=lambda it: (it.digit, it.speaker, it.take))


def official_split(items: Iterable[FsddItem]) -> tuple[list[FsddItem], list[FsddItem]]:
    """Split as the dataset's authors do: ``(train, test)``, takes 5-49 and 0-4."""
    items = list(items)
    return [it for it in items if it.take >= _TEST_TAKES], [it for it in items if it.take < _TEST_TAKES]


def speaker_split(items: Iterable[FsddItem], held_out: str | Sequence[str] = "nicolas") -> tuple[
    list[FsddItem], list[FsddItem]
]:
    """Hold speakers out: ``(train, test)`` with ``test`` all recordings of ``held_out``.

    Raises
    ------
    ParameterError
        When a held-out speaker has no recording; the message lists the speakers.
    """
    items = list(items)
    out = {held_out} if isinstance(held_out, str) else set(held_out)
    present = sorted({it.speaker for it in items})
    missing = sorted(out - set(present))
    if missing or not out:
        raise ParameterError(
            f"'held_out' must name speakers of the dataset ({', '.join(present) or 'none'}) (got {held_out!r})."
        )
    return [it for it in items if it.speaker not in out], [it for it in items if it.speaker in out]


def link_split(
    splits: Mapping[str, Iterable[FsddItem]], dst: str | os.PathLike[str], *, copy: bool = False
) -> Path:
    """Lay a split out as ``dst/<split>/<digit>/<file>.wav`` for ``any2img convert``.

    The split folder names (``train``, ``valid``, ``test``) are recognised by
    the batch conversion, and the digit folders give the labels
    (``--label-from parent``). Files are symbolic links unless ``copy`` (or
    links are not possible).

    Returns
    -------
    Path
        ``dst``.
    """
    out = Path(dst)
    for split, items in splits.items():
        for it in items:
            target = out / split / it.label / it.path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                continue
            if not copy:
                try:
                    target.symlink_to(it.path.resolve())
                    continue
                except OSError:
                    pass
            shutil.copy2(it.path, target)
    return out
