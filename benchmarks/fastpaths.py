"""CPU fast paths of issue 12, as ratios measured within one run.

Usage (from the repository root)::

    python -m benchmarks.fastpaths                # GunPoint fields at 64 and 128 px, colouring, trajectory
    python -m benchmarks.fastpaths --repeat 7 --n 200

Every ratio compares two ways to the *same* output, timed in this one
process, alternately, best of ``--repeat`` runs. Times are this process's
CPU time (``time.process_time``), not wall time: every side runs on one
thread (pinned below), and on cores shared with other jobs the CPU time
leaves out the waits for a core that swing wall-clock ratios by 2x from run
to run.

* any2img's ``convert_batch`` of the field converters against pyts's batch
  transform followed by the same RGB uint8 step (``round(clip(u) * 255)``
  on three channels), in steady state: pyts's import, which compiles its
  numba kernels, is timed apart and printed;
* the colouring step alone, before (a fancy-indexed 256-entry table gather,
  as ``field_to_rgb`` did) and after (levels written channel by channel);
* the trajectory converter against one matplotlib figure per window, and a
  plain supersampled Pillow polyline of the same path (black, one width) for
  scale: the default painter (compiled where numba is importable) and the
  Pillow fallback as rows of their own; the compiled painter's first call
  in a fresh process, cold and from numba's cache, is printed apart;
* ``trajectory_look`` (not timed): the compiled painter's pictures against
  Pillow's on 200 Balabit windows (10 per session, 2 sessions per user),
  three parameter sets at 64 and 128 px;
* the torch implementations (``any2img.device``) against the numpy
  converters on this CPU;
* the mel converter's ``convert_batch`` on real FSDD clips at 128 px and
  at natural size against two references to the same picture: librosa per
  clip (``melspectrogram`` + ``power_to_db(ref=np.max)`` + Pillow resize),
  and a length-bucketed ``torch.stft`` (:func:`torch_mel`).

BLAS, OpenMP and torch threads are pinned to ``--threads`` (default 1)
before numpy is imported, and printed.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # pin threads before numpy loads its BLAS
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        os.environ[_var] = _threads

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any, cast  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["main", "ratio", "torch_mel"]


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def ratio(ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best times of ``ours`` and ``theirs``, run alternately ``repeat`` times each."""
    ours(), theirs()  # warm: imports, caches, compilation
    t_ours = t_theirs = float("inf")
    for _ in range(repeat):
        t_ours = min(t_ours, _best(ours, 1))
        t_theirs = min(t_theirs, _best(theirs, 1))
    return t_ours, t_theirs


def _rgb(unit: np.ndarray) -> np.ndarray:
    levels = np.clip(unit, 0.0, 1.0)
    levels *= 255
    np.rint(levels, out=levels)
    grey = levels.astype(np.uint8)
    out = np.empty(grey.shape + (3,), np.uint8)
    for c in range(3):
        out[..., c] = grey
    return out


def _pyts(kind: str, size: int) -> Callable[[np.ndarray], np.ndarray]:
    from pyts.image import GramianAngularField, MarkovTransitionField, RecurrencePlot

    if kind in ("gasf", "gadf"):
        gaf = GramianAngularField(image_size=size, method="summation" if kind == "gasf" else "difference")
        return lambda X: _rgb((gaf.fit_transform(X) + 1.0) / 2.0)
    if kind == "mtf":
        mtf = MarkovTransitionField(image_size=size, n_bins=8)
        return lambda X: _rgb(mtf.fit_transform(X))
    from pyts.approximation import PiecewiseAggregateApproximation

    paa = PiecewiseAggregateApproximation(window_size=None, output_size=size)

    def recurrence(X: np.ndarray) -> np.ndarray:
        fields = RecurrencePlot().fit_transform(paa.fit_transform(X))
        return _rgb(fields / fields.max(axis=(1, 2), keepdims=True))

    return recurrence


def _fields(n: int, repeat: int) -> list[dict[str, Any]]:
    start = time.perf_counter()
    import pyts.image  # noqa: F401  (compiles the numba kernels)
    from pyts.datasets import load_gunpoint

    compile_s = time.perf_counter() - start
    print(json.dumps({"pyts_import_and_compile_s": round(compile_s, 1)}), flush=True)
    import any2img

    X = np.concatenate(cast(Any, load_gunpoint(return_X_y=True))[:2])
    X = np.tile(X, (int(np.ceil(n / len(X))), 1))[:n]
    rows = []
    for size in (64, 128):
        for name in ("gasf", "gadf", "mtf", "recurrence"):
            conv = any2img.get_converter(name, image_size=size)
            theirs = _pyts(name, size)
            series = list(X)
            ours_t, theirs_t = ratio(partial(conv.convert_batch, series), partial(theirs, X), repeat)
            rows.append({"case": f"{name} {size} px", "ours": "any2img convert_batch",
                         "reference": "pyts batch + RGB uint8", "n": n, "ours_ms_per_image": 1e3 * ours_t / n,
                         "reference_ms_per_image": 1e3 * theirs_t / n, "speedup": theirs_t / ours_t,
                         "pyts_compile_s": compile_s})
    return rows


def _colouring(repeat: int) -> list[dict[str, Any]]:
    from any2img.imaging import _lut, field_to_rgb

    rows = []
    for size in (64, 128):
        unit = np.random.default_rng(0).random((64, size, size)).astype(np.float32)
        for cmap in ("grey", "viridis"):
            table = _lut(cmap)

            def before(u: np.ndarray = unit, t: np.ndarray = table) -> np.ndarray:
                return t[np.round(np.clip(u, 0.0, 1.0) * 255).astype(np.uint8)]

            ours_t, theirs_t = ratio(partial(field_to_rgb, unit, cmap), before, repeat)
            rows.append({"case": f"colouring 64 fields {size} px {cmap}", "ours": "field_to_rgb now",
                         "reference": "table[levels] gather (before)", "n": 64,
                         "ours_ms_per_image": 1e3 * ours_t / 64, "reference_ms_per_image": 1e3 * theirs_t / 64,
                         "speedup": theirs_t / ours_t})
    return rows


def _trajectory(n: int, repeat: int) -> list[dict[str, Any]]:
    from any2img.converters.mouse import drawing
    from PIL import Image, ImageDraw

    import any2img
    from benchmarks.speed import _balabit, _matplotlib_paths

    print(json.dumps({"trajectory_first_call": _trajectory_first_call()}), flush=True)
    logs, where = _balabit(n)
    rows = []
    windows = [getattr(w, "data", w) for w in logs]
    fast = drawing.rasteriser() is not None
    for size in (64, 128):
        conv = any2img.get_converter("trajectory", image_size=size)
        params = conv._p()

        def pillow(params: Any = params) -> None:
            drawing.draw_trajectories(windows, params, engine="pillow")

        def polyline(size: int = size) -> None:
            s = 3
            for log in windows:
                canvas = Image.new("RGB", (size * s, size * s), (255, 255, 255))
                x, y = np.asarray(log.x, float), np.asarray(log.y, float)
                span = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
                pts = np.column_stack([(x - x.min()) / span, (y - y.min()) / span]) * (size * s - 1)
                ImageDraw.Draw(canvas).line(pts.ravel().tolist(), fill=(0, 0, 0), width=s, joint="curve")
                np.asarray(canvas.reduce(s))

        def matplotlib(size: int = size) -> None:
            _matplotlib_paths(windows, size)

        k = len(logs)
        ways = [(f"trajectory {size} px", f"any2img trajectory ({'numba' if fast else 'Pillow'}, the default)",
                 partial(conv.convert_batch, logs))]
        ways.append((f"trajectory {size} px, one window per call", "any2img trajectory convert",
                     partial(_each, conv.convert, logs)))
        if fast:
            ways.append((f"trajectory {size} px, Pillow fallback", "any2img trajectory, engine='pillow'", pillow))
        ways.append((f"black polyline {size} px", "Pillow polyline, 3x, reduce", polyline))
        for case, ours, fn in ways:
            ours_t, mpl_t = ratio(fn, matplotlib, repeat)
            rows.append({"case": case, "ours": ours, "inputs": where, "reference": "matplotlib figure per image",
                         "n": k, "ours_ms_per_image": 1e3 * ours_t / k, "reference_ms_per_image": 1e3 * mpl_t / k,
                         "speedup": mpl_t / ours_t})
    return rows


def _each(fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
    for item in items:
        fn(item)


_FIRST_CALL = """
import time
t0, c0 = time.perf_counter(), time.process_time()
from any2img.converters.mouse import drawing
from any2img.converters.mouse.trajectory import Trajectory
log = Trajectory.example_signal(0)
t1, c1 = time.perf_counter(), time.process_time()
drawing.draw_trajectories([log], Trajectory()._p(), engine="numba")
t2, c2 = time.perf_counter(), time.process_time()
print(round(t1 - t0, 2), round(c1 - c0, 2), round(t2 - t1, 2), round(c2 - c1, 2))
"""


def _trajectory_first_call() -> dict[str, Any]:
    """Seconds of the compiled painter's first call in a fresh process: cold (compiling) and from numba's cache.

    Each in its own process, with ``NUMBA_CACHE_DIR`` an empty folder for the cold one; wall and CPU time
    of the import of the converter and of the first picture (numba's import included).
    """
    import subprocess
    import tempfile

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "cached"):
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            done = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True)
            if done.returncode:
                return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
            wall_import, cpu_import, wall_first, cpu_first = (float(v) for v in done.stdout.split())
            out[label] = {"import_s": wall_import, "first_picture_wall_s": wall_first,
                          "first_picture_cpu_s": cpu_first}
    return out


def _balabit_sample(per_session: int = 10, sessions: int = 2, seed: int = 0) -> list[Any]:
    """``per_session`` random 300-event windows of the first ``sessions`` sessions of each Balabit user."""
    import any2img
    from any2img.bench.locations import balabit_dir
    from benchmarks.speed import _files

    conv = any2img.get_converter("trajectory")
    rng = np.random.default_rng(seed)
    windows: list[Any] = []
    for user in _files(balabit_dir(), "user*"):
        for path in sorted(user.glob("session_*"))[:sessions]:
            session = [w.data for record in conv.read_records(path) for w in conv.segment(record.signal)]
            picked = rng.choice(len(session), size=min(per_session, len(session)), replace=False)
            windows += [session[i] for i in sorted(picked.tolist())]
    return windows


def _trajectory_look(n: int) -> list[dict[str, Any]]:
    """The compiled painter's pictures against Pillow's, one window per canvas and in batches."""
    from any2img.converters.mouse import drawing

    import any2img

    if drawing.rasteriser() is None:
        print(json.dumps({"trajectory_look": "numba is not importable: only Pillow paints"}), flush=True)
        return []
    logs = _balabit_sample()[:n]
    where = f"Balabit, {len(logs)} windows of 300 events (10 per session, 2 sessions per user, seed 0)"
    if not logs:
        logs = [any2img.get_converter("trajectory").example_signal(seed) for seed in range(n)]
        where = f"synthetic mouse logs, {n}"
    rows = []
    for label, extra in (("default (relative)", {}), ("coords='screen'", {"coords": "screen"}),
                         ("accel='brightness', fade", {"accel": "brightness", "fade": True})):
        for size in (64, 128):
            params = any2img.get_converter("trajectory", image_size=size, **extra)._p()
            fast = drawing.draw_trajectories(logs, params, engine="numba")
            alone = [drawing.draw_trajectories([log], params, engine="pillow")[0] for log in logs]
            batch = drawing.draw_trajectories(logs, params, engine="pillow")
            for against, pictures in (("Pillow, a canvas per window (convert)", alone),
                                      ("Pillow, tiles of one canvas (convert_batch)", batch)):
                d = np.stack([np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(fast, pictures)])
                rows.append({"case": f"trajectory look {label} {size} px", "against": against, "inputs": where,
                             "n": len(logs), "mean_abs_diff": float(d.mean()),
                             "pixels_off_by_more_than_8": float((d.max(axis=3) > 8).mean()),
                             "pixels_differing": int((d.max(axis=3) > 0).sum()),
                             "windows_differing": int((d.reshape(len(logs), -1).max(axis=1) > 0).sum()),
                             "max_abs_diff": int(d.max())})
    return rows


def _device(n: int, repeat: int) -> list[dict[str, Any]]:
    import torch

    import any2img
    from any2img.device import device_converter
    from benchmarks.speed import _fsdd, _gunpoint

    series, _ = _gunpoint(n)
    clips, where = _fsdd(min(n, 100))
    rows = []
    for name, size, inputs, params in (("gasf", 128, series, {}), ("mtf", 64, series, {}),
                                       ("mel", 64, clips, {"sample_rate": 8000})):
        conv = any2img.get_converter(name, image_size=size, **params)
        dev = device_converter(name, image_size=size, **params)
        ours_t, theirs_t = ratio(partial(dev.convert_batch, inputs, "cpu"), partial(conv.convert_batch, inputs),
                                 repeat)
        k = len(inputs)
        rows.append({"case": f"{name} {size} px torch on CPU", "ours": f"any2img.device ({torch.get_num_threads()} "
                     "torch threads)", "reference": "numpy convert_batch", "n": k,
                     "ours_ms_per_image": 1e3 * ours_t / k, "reference_ms_per_image": 1e3 * theirs_t / k,
                     "speedup": theirs_t / ours_t})
    return rows


def torch_mel(clips: Sequence[np.ndarray], size: int | None, *, sample_rate: int = 8000, n_fft: int = 1024,
              hop_length: int = 160, n_mels: int = 128, top_db: float = 80.0, bucket: int = 16) -> list[np.ndarray]:
    """Log-mel pictures the way a torch user batches them: length buckets through one ``torch.stft`` each.

    The clips are sorted by length and cut into buckets of ``bucket``; each
    bucket is zero-padded to its longest clip and goes through one
    ``torch.stft`` (periodic Hann window, ``center=True``,
    ``pad_mode="constant"``, as the converter), power scaled as
    ``stft_power``, one matmul with librosa's mel filter bank (``norm=None``,
    the converter's bank), dB with the -200 dBFS floor. Zero padding leaves
    a clip's own ``1 + len // hop_length`` frames unchanged, so each clip
    keeps those, is referred to its own peak (``ref=np.max``), floored at
    ``-top_db``, flipped, resized with torch's antialiased bilinear filter
    (Pillow's) and rounded to uint8 RGB. Returns the pictures in input order.
    Buckets of 16 were its fastest on 100 FSDD clips (8 and 32 within 3 %;
    one bucket of all 100 took 1.7x as long).
    """
    import torch
    import torch.nn.functional as F
    from any2img.converters.audio.features import mel_basis

    basis = torch.from_numpy(mel_basis(sample_rate, n_fft, n_mels, 0.0, sample_rate / 2.0).toarray())
    window = torch.hann_window(n_fft, periodic=True)
    scale = 4.0 / float(window.sum()) ** 2
    order = sorted(range(len(clips)), key=lambda i: len(clips[i]))
    out: list[np.ndarray] = [np.empty(0, np.uint8)] * len(clips)
    for b in range(0, len(order), bucket):
        idx = order[b : b + bucket]
        longest = max(len(clips[i]) for i in idx)
        batch = torch.zeros(len(idx), longest)
        for row, i in enumerate(idx):
            batch[row, : len(clips[i])] = torch.from_numpy(np.asarray(clips[i], np.float32))
        spec = torch.stft(batch, n_fft, hop_length, window=window, center=True, pad_mode="constant",
                          return_complex=True)
        db = 10.0 * torch.log10(torch.clamp(torch.matmul(basis, (spec.real**2 + spec.imag**2) * scale), min=1e-20))
        for row, i in enumerate(idx):
            d = db[row, :, : 1 + len(clips[i]) // hop_length]
            unit = torch.clamp((torch.clamp(d - d.max(), min=-top_db) / top_db + 1.0), 0.0, 1.0).flip(0)
            if size is not None:
                unit = F.interpolate(unit[None, None], size=(size, size), mode="bilinear", align_corners=False,
                                     antialias=True)[0, 0]
            grey = torch.round(unit * 255).to(torch.uint8).numpy()
            out[i] = np.repeat(grey[:, :, None], 3, axis=2)
    return out


def _librosa_mel(clips: Sequence[np.ndarray], size: int | None) -> list[np.ndarray]:
    import librosa
    from PIL import Image

    from benchmarks.speed import _grey

    out = []
    for y in clips:
        mel = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=1024, hop_length=160, n_mels=128, norm=None,
                                             center=True, pad_mode="constant")
        db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
        img = _grey(db[::-1], float(db.max()) - 80.0, float(db.max()))
        if size is not None:
            img = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))
        out.append(np.repeat(img[:, :, None], 3, axis=2))
    return out


def _mel(n: int, repeat: int) -> list[dict[str, Any]]:
    import any2img
    from benchmarks.speed import _fsdd

    clips, where = _fsdd(n)
    k = len(clips)
    rows = []
    for size in (128, None):
        conv = any2img.get_converter("mel", sample_rate=8000, image_size=size)
        ours = partial(conv.convert_batch, clips)
        mine, ref = ours(), torch_mel(clips, size)
        off = np.concatenate([np.abs(a.astype(int) - b.astype(int)).ravel() for a, b in zip(mine, ref)])
        agree = {"torch_pixels_within_1": float(np.mean(off <= 1)), "torch_max_off": int(off.max())}
        label = f"{size} px" if size else "natural size"
        for name, theirs in (("length-bucketed torch.stft (1 thread)", partial(torch_mel, clips, size)),
                             ("librosa per clip", partial(_librosa_mel, clips, size))):
            ours_t, theirs_t = ratio(ours, theirs, repeat)
            rows.append({"case": f"mel {label}", "ours": "any2img convert_batch", "inputs": where,
                         "reference": name, "n": k, "ours_ms_per_image": 1e3 * ours_t / k,
                         "reference_ms_per_image": 1e3 * theirs_t / k, "speedup": theirs_t / ours_t, **agree})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fastpaths", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="series per field case (default 200)")
    p.add_argument("--repeat", type=int, default=5, help="alternate timed runs per side; the best counts")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    p.add_argument("--only", nargs="+", choices=("fields", "colouring", "trajectory", "trajectory_look", "device",
                                                 "mel"))
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from any2img.bench.machine import machine_info, machine_label

    print(json.dumps({"machine": machine_label(machine_info(with_torch=False)), "torch_threads":
                      torch.get_num_threads(), **{v: os.environ.get(v) for v in ("OMP_NUM_THREADS",
                                                                                   "OPENBLAS_NUM_THREADS")}}))
    parts = {"fields": lambda: _fields(args.n, args.repeat), "colouring": lambda: _colouring(args.repeat),
             "trajectory": lambda: _trajectory(min(args.n, 60), args.repeat),
             "trajectory_look": lambda: _trajectory_look(args.n),
             "device": lambda: _device(args.n, args.repeat), "mel": lambda: _mel(min(args.n, 100), args.repeat)}
    rows: list[dict[str, Any]] = []
    for name, run in parts.items():
        if args.only and name not in args.only:
            continue
        for row in run():
            rows.append(row)
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    print("| case | ours | reference | ours ms/img | reference ms/img | speed-up |\n|---|---|---|---|---|---|")
    for r in (r for r in rows if "speedup" in r):
        print(f"| {r['case']} | {r['ours']} | {r['reference']} | {r['ours_ms_per_image']:.3f} | "
              f"{r['reference_ms_per_image']:.3f} | {r['speedup']:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
