"""Which mouse-dynamics statistics tell Balabit users apart: a random forest on groups of features.

Usage (from the repository root; needs the Balabit copy in ``../shared/datasets``
or ``$ANY2IMG_BALABIT``)::

    python -m benchmarks.mouse_feature_groups

Only the development sessions are read: each user's last session (the test
side of the benchmark) is dropped. Each session's first 6,000 events are cut
into 300-event windows (the benchmark's ``events6000`` subset) and described
by the baseline's hand-crafted features (:mod:`any2img.bench.baselines.mouse`).
The judge is one random development session per user, three draws; a
random forest of 300 trees trains on the other sessions, once per group of
features. The answer guided the ``mouse_histogram`` picture
(``benchmarks/DEFAULTS.md``, ninth round): what the forest reads is
kinematic and timing statistics, not where the pointer was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from any2img.converters.mouse.io import read_mouse_table
from sklearn.ensemble import RandomForestClassifier

from any2img.bench.baselines.mouse import FEATURE_NAMES, window_features
from any2img.bench.locations import balabit_dir

_TIMING = ("duration", "pause_fraction", "repeated_fraction")
GROUPS = {
    "all": lambda n: True,
    "kinematic (speed, acceleration, jerk, curvature, turn)": lambda n: n.startswith(
        ("speed", "accel", "jerk", "curv", "turn", "vx", "vy")),
    "timing (step durations, pauses, repeated stamps)": lambda n: n.startswith("dt_") or n in _TIMING,
    "position (x, y spread and range)": lambda n: n.startswith(("x_", "y_")),
    "all but position": lambda n: not n.startswith(("x_", "y_")),
    "all but timing": lambda n: not (n.startswith("dt_") or n in _TIMING),
}


def development_windows(root: Path, events: int = 6000, size: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, user and session of every window of every user's sessions but the last."""
    X, users, sessions = [], [], []
    for user in sorted(p for p in root.iterdir() if p.is_dir()):
        for session in sorted(user.iterdir())[:-1]:  # the last session is the benchmark's test side
            log = read_mouse_table(session)[0]
            n = min(len(log), events)
            for start in range(0, n - size + 1, size):  # whole windows only, as in the events6000 subset
                X.append(window_features(log.slice(start, start + size)))  # reads the logs' button codes
                users.append(user.name)
                sessions.append(f"{user.name}/{session.name}")
    return np.asarray(X), np.asarray(users), np.asarray(sessions)


def main(argv: list[str] | None = None) -> None:
    """Print the forest's window accuracy on held-out development sessions for each group of features."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=3, help="judging sessions drawn per user (one per draw)")
    args = p.parse_args(argv)
    root = balabit_dir()
    if root is None or not root.is_dir():
        raise SystemExit("Balabit not found: pass ANY2IMG_BENCH_DATA or ANY2IMG_BALABIT")
    X, users, sessions = development_windows(root)
    print(f"{len(X)} windows of {len(set(sessions))} development sessions, {len(set(users))} users")
    rng = np.random.default_rng(0)
    judges = []
    for _ in range(args.draws):
        held = np.zeros(len(users), dtype=bool)
        for u in sorted(set(users)):
            names = sorted(set(sessions[users == u]))
            held |= sessions == names[rng.integers(len(names))]
        judges.append(held)
    for name, keep in GROUPS.items():
        cols = [i for i, f in enumerate(FEATURE_NAMES) if keep(f)]
        accs = []
        for draw, held in enumerate(judges):
            rf = RandomForestClassifier(300, n_jobs=2, random_state=draw).fit(X[~held][:, cols], users[~held])
            accs.append(float((rf.predict(X[held][:, cols]) == users[held]).mean()))
        draws = ", ".join(f"{a:.3f}" for a in accs)
        print(f"{name:55s} {len(cols):2d} features  windows {np.mean(accs):.3f}  ({draws})")


if __name__ == "__main__":
    main()
