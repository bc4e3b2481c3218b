"""The Balabit Mouse Dynamics Challenge data set (training part).

Ten users, 5 to 7 long remote-desktop sessions each, one CSV file per session
without a suffix (``training_files/user7/session_0041905381``) with the
columns ``record timestamp, client timestamp, button, state, x, y``. The
natural task is to tell the user from a window of mouse activity, keeping
every session on one side of the split.

Source: https://github.com/balabit/Mouse-Dynamics-Challenge — cite Fülöp,
Kovács, Kurics and Windhager-Pokol (2016), *Balabit Mouse Dynamics Challenge
data set*. Nothing is downloaded here: clone the repository (or unpack its
archive) and point :func:`balabit_root` at its ``training_files`` folder,
with an argument or the environment variable ``ANY2IMG_BALABIT``.

Examples
--------
>>> from any2img.datasets.balabit import last_session_split  # doctest: +SKIP
>>> split = last_session_split()                             # doctest: +SKIP
>>> len(split["train"]), len(split["test"])                  # doctest: +SKIP
(55, 10)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from any2img.errors import InputError

__all__ = [
    "ENV_VAR",
    "URL",
    "Session",
    "balabit_root",
    "last_session_split",
    "list_sessions",
    "list_users",
]

#: Where the data set is published.
URL = "https://github.com/balabit/Mouse-Dynamics-Challenge"
#: Environment variable holding the local ``training_files`` folder.
ENV_VAR = "ANY2IMG_BALABIT"

_USER = re.compile(r"^user\d+$")
_SESSION = re.compile(r"^session_\w+$")


@dataclass(frozen=True)
class Session:
    """One session file.

    Attributes
    ----------
    user : str
        The user folder, e.g. ``"user7"`` (the label).
    name : str
        The session file name, e.g. ``"session_0041905381"`` (the group).
    path : Path
    """

    user: str
    name: str
    path: Path


def _natural(text: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def balabit_root(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the local ``training_files`` folder of the Balabit data set.

    Parameters
    ----------
    path : path, optional
        The folder; by default the environment variable ``ANY2IMG_BALABIT``
        (there is no default location: the package never guesses a path
        from where it is installed). A folder that holds ``training_files``
        (the repository's root) is accepted too.

    Raises
    ------
    InputError
        Neither names a folder, or no such folder; the message says where
        to get the data.
    """
    chosen = path if path is not None else os.environ.get(ENV_VAR)
    if not chosen:
        raise InputError(
            f"no Balabit folder given; get the data from {URL} and pass its 'training_files' folder as an "
            f"argument or in the environment variable {ENV_VAR}"
        )
    root = Path(chosen).expanduser()
    if (root / "training_files").is_dir():
        root = root / "training_files"
    if not root.is_dir():
        raise InputError(
            f"the Balabit training files are not there; get them from {URL} and pass their "
            f"'training_files' folder as an argument or in the environment variable {ENV_VAR}",
            path=root,
        )
    return root


def list_users(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Return the user folders (``user7``, ``user9``, ``user12``, …) in natural order."""
    base = balabit_root(root)
    return sorted((p.name for p in base.iterdir() if p.is_dir() and _USER.match(p.name)), key=_natural)


def list_sessions(root: str | os.PathLike[str] | None = None, user: str | None = None) -> list[Session]:
    """Return the sessions of every user (or of one), by user then session name."""
    base = balabit_root(root)
    users = list_users(base) if user is None else [user]
    sessions: list[Session] = []
    for name in users:
        folder = base / name
        if not folder.is_dir():
            raise InputError(f"no such user folder (users: {', '.join(list_users(base))})", path=folder)
        files = sorted((p for p in folder.iterdir() if p.is_file() and _SESSION.match(p.name)), key=lambda p: p.name)
        sessions.extend(Session(name, p.name, p) for p in files)
    return sessions


def last_session_split(root: str | os.PathLike[str] | None = None) -> dict[str, list[Session]]:
    """Hold out each user's last session: ``{"train": [...], "test": [...]}``.

    "Last" is the last by sorted session name. The files carry no calendar
    time (every session's timestamps start at 0, and the names are random
    ids), so this is not the chronologically last session but a fixed,
    reproducible choice of one unseen session per user. Every session lies
    wholly on one side, so no window of a test session is seen in training.
    """
    split: dict[str, list[Session]] = {"train": [], "test": []}
    by_user: dict[str, list[Session]] = {}
    for s in list_sessions(root):
        by_user.setdefault(s.user, []).append(s)
    for sessions in by_user.values():
        split["train"].extend(sessions[:-1])
        split["test"].append(sessions[-1])
    return split
