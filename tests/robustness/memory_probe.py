"""Run one memory-hungry job in a fresh process and print its peak resident memory as JSON.

``python memory_probe.py JOB ARGS...`` (the robustness suite runs it in a
subprocess so each peak is the job's own): ``ru_maxrss`` of the process at
the end, in MB (see :func:`_peak_mb`), beside what the job produced.

Jobs
----
convert SRC DST NAME PARAMS_JSON
    ``convert_dir`` of ``SRC`` with converter ``NAME`` into ``DST`` (one worker, in-process).
predict MODEL FILE
    ``any2img.load(MODEL).predict_file(FILE)``.
transform FILE NAMES PARAMS_JSON
    Every record of ``FILE`` read and converted with each converter of the
    comma-separated ``NAMES`` in turn (no file written).
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _status_mb(field: str) -> float | None:
    """A ``kB`` line of ``/proc/self/status`` (Linux) in MB; None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _peak_mb() -> float:
    """Peak resident memory of this process image, MB.

    ``VmHWM`` of ``/proc/self/status`` where there is one (Linux): Linux
    carries ``ru_maxrss`` over ``execve`` from the process that forked us, so
    a child of a large pytest process would report the parent's size.
    Elsewhere ``ru_maxrss`` (kB on Linux, bytes on macOS).
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


def _library_files_mb() -> float:
    """Resident pages of mapped files (``RssFile`` of ``/proc/self/status``, Linux), MB; 0 elsewhere.

    These are the shared libraries' pages (torch alone maps 300-600 MB of
    them), shared with every process and the page cache, not memory the job
    allocated. How many of them count depends on the file system and the
    page cache's state: the same job on the same packages peaked at 780 MB
    from a venv on one disk and 1,030 MB from a fresh venv under ``/tmp``,
    with the same 450 MB of private memory.
    """
    return _status_mb("RssFile") or 0.0


def main(argv: list[str]) -> dict[str, object]:
    """Run the job named by ``argv[0]``; return what to print."""
    job, args = argv[0], argv[1:]
    start = time.perf_counter()
    out: dict[str, object] = {"job": job}
    if job == "convert":
        from any2img import convert_dir

        report = convert_dir(args[2], args[0], args[1], params=json.loads(args[3]), workers=1, progress=False)
        out.update(images=report.images, failures=len(report.failures))
    elif job == "predict":
        import any2img

        predictions = any2img.load(args[0], device="cpu").predict_file(args[1])
        out.update(windows=int(predictions[0].window_probabilities.shape[0]), label=predictions[0].label)
    elif job == "transform":
        from any2img.registry import get_converter

        images = 0
        for name in args[1].split(","):
            conv = get_converter(name, **json.loads(args[2]))
            for record in conv.read_records(args[0]):
                windows = conv.segment(record.signal)
                for i in range(0, len(windows), 64):
                    images += len(conv.convert_batch(windows[i : i + 64]))
        out.update(images=images)
    else:
        raise SystemExit(f"unknown job {job!r}")
    peak = _peak_mb()
    # private: the peak less the library files still mapped at the end (they are never unmapped, so this
    # over-counts the private peak if the kernel dropped some of their pages since: a conservative figure)
    out.update(seconds=round(time.perf_counter() - start, 2), peak_mb=round(peak, 1),
               private_peak_mb=round(peak - _library_files_mb(), 1))
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
