"""Turn the results CSVs into ``RESULTS.md`` and plots.

``RESULTS.md`` holds, per suite, the table of test accuracy (mean ± sample
std over seeds) for each data set × representation × init, the baselines
measured in the same run beside them, the published numbers (labelled
"published"), the goals met or missed, and the machine, versions, seeds and
exact commands of the runs.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from any2img.bench.runner import read_rows, row_key

__all__ = ["PUBLISHED", "aggregate", "mean_std", "results_table", "speed_table", "write_report"]

#: Published accuracies on the same splits (dataset, split) -> [(method, accuracy, source)].
PUBLISHED: dict[tuple[str, str], list[tuple[str, float, str]]] = {
    ("GunPoint", "given"): [("MiniRocket", 0.992, "UCR archive"), ("ROCKET", 1.000, "UCR archive"),
                            ("1-NN DTW", 0.913, "UCR archive"), ("GAF + tiled CNN", 0.920, "Wang & Oates 2015")],
    ("Coffee", "given"): [("most methods", 1.000, "UCR archive")],
    ("PigCVP", "given"): [("MiniRocket", 0.919, "UCR archive"),
                          ("recurrence plot + ImageNet ResNet", 0.529, "Timage, ICANN 2019")],
    ("FSDD", "official"): [("log-spectrogram CNN", 0.993, "Eng. Res. Express 7(4):045394, 2025")],
    ("Balabit", "last-session"): [("hand-crafted features + RF (AUC on the challenge test part)", 0.92,
                                   "Antal & Egyed-Zsigmond 2019")],
}

#: Suites in the order RESULTS.md shows them: ``cpu`` first, as the one complete run on this project's
#: machines (every data set and converter, 3 seeds); ``full`` holds the pieces run at full size.
SUITE_ORDER = ("defaults", "cpu", "full", "quick")


def mean_std(values: Iterable[float | str | None]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count, ignoring blanks/NaN."""
    vals = [float(v) for v in values if v is not None and v != "" and not math.isnan(float(v))]
    if not vals:
        return float("nan"), float("nan"), 0
    arr = np.asarray(vals)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, len(arr)


def fmt_ms(mean: float, std: float, n: int) -> str:
    """``0.993 ± 0.004`` (``0.993`` for one seed, ``–`` for none)."""
    if n == 0 or math.isnan(mean):
        return "–"
    return f"{mean:.3f}" if n == 1 else f"{mean:.3f} ± {std:.3f}"


def aggregate(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per configuration (its whole CSV key but the seed) with mean/std/n of each metric."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        key = row_key(r)
        groups[key[:4] + key[5:]].append(r)  # a configuration's identity, less its seed
    out = []
    for (dataset, split, method, init, *_), rs in groups.items():
        entry: dict[str, Any] = {"dataset": dataset, "split": split, "method": method, "init": init,
                                 "family": rs[0].get("family", ""),
                                 "seeds": sorted({int(float(r["seed"])) for r in rs})}
        for metric in ("test_acc", "test_macro_f1", "valid_acc", "test_session_acc", "train_seconds",
                       "images_per_second", "convert_seconds"):
            entry[metric] = mean_std(r.get(metric, "") for r in rs)
        entry["epochs"] = rs[0].get("epochs", "")
        entry["image_size"] = rs[0].get("image_size", "")
        entry["variant"] = rs[0].get("variant", "")
        entry["settings"] = rs[0].get("settings") or ""
        entry["budget"] = rs[0].get("budget") or ""
        out.append(entry)
    return out


def _order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(e: dict[str, Any]) -> tuple[Any, ...]:
        m = e["test_acc"][0]
        return (e["dataset"], e["split"], e["family"] != "image", -(m if not math.isnan(m) else -1), e["method"],
                e["init"])

    return sorted(entries, key=key)


def results_table(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of one suite: test accuracy mean ± std per configuration, baselines, published."""
    entries = _order(aggregate(rows))
    head = ("| Data set | Split | Method | Init | Test acc. | Test macro-F1 | Valid acc. | Session acc. | Seeds "
            "| Size, epochs | Train s | Img/s |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    seen: list[tuple[str, str]] = []
    for e in entries:
        ds = (e["dataset"], e["split"])
        if ds not in seen:
            seen.append(ds)
        method = e["method"] if e["family"] == "image" else f"baseline: {e['method']}"
        split = e["split"] + "".join(f" [{x}]" for x in (e["variant"], e["settings"]) if x)
        secs, ips = e["train_seconds"], e["images_per_second"]
        setup = f"{e['image_size']} px, {e['epochs']} ep" if e["family"] == "image" else ""
        if e["family"] == "image" and e["epochs"] == "auto":  # the CLI defaults: show what they chose (seed 0)
            setup = f"defaults: {e['budget'].split(', selected')[0]}"
        lines.append(
            f"| {e['dataset']} | {split} | {method} | {e['init']} | **{fmt_ms(*e['test_acc'])}** | "
            f"{fmt_ms(*e['test_macro_f1'])} | {fmt_ms(*e['valid_acc'])} | {fmt_ms(*e['test_session_acc'])} | "
            f"{len(e['seeds'])} | {setup} | {secs[0]:.0f} | {'' if math.isnan(ips[0]) else f'{ips[0]:.0f}'} |"
        )
    for ds in seen:
        for method, acc, source in PUBLISHED.get(ds, []):
            value = f"AUC {acc:.3f}" if "AUC" in method else f"{acc:.3f}"
            lines.append(f"| {ds[0]} | {ds[1]} | {method} ({source}) | published | {value} |  |  |  |  |  |  |  |")
    return "\n".join(lines)


def _best(entries: list[dict[str, Any]], dataset: str, split_prefix: str, family: str = "image",
          init: str | None = "pretrained") -> dict[str, Any] | None:
    cands = [e for e in entries if e["dataset"] == dataset and e["split"].startswith(split_prefix)
             and e["family"] == family and (init is None or e["init"] == init) and e["test_acc"][2]
             and not e.get("settings")]  # goals are for the default pipeline, not ablations
    return max(cands, key=lambda e: e["test_acc"][0]) if cands else None


#: Issue 10's targets for the untuned CLI defaults: (data set, split prefix, label, threshold).
DEFAULTS_TARGETS = (("GunPoint", "given", "≥ 0.993", 0.993), ("Coffee", "given", "= 1.000", 1.0),
                    ("BasicMotions", "given", "≥ 0.975 (1-NN DTW)", 0.975),
                    ("PigCVP", "given", "≥ 0.55 (published image route 0.529)", 0.55),
                    ("FSDD", "official", "≥ 0.99", 0.99))


def defaults_goals(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Issue 10's targets, each met / missed / not run, for the CLI-defaults suite.

    Every converter the suite ran is listed (a user picks one); the verdict
    reads the best of them, since the target is for the defaults, not for a
    representation.
    """
    entries = [e for e in aggregate(rows) if not e.get("settings")]
    out = []
    for dataset, split, label, threshold in DEFAULTS_TARGETS:
        cands = [e for e in entries if e["dataset"] == dataset and e["split"] == split and e["family"] == "image"]
        if not cands:
            out.append(f"- {dataset} {label}: **not run**.")
            continue
        best = max(cands, key=lambda e: e["test_acc"][0])
        shown = ", ".join(f"{e['method']} {fmt_ms(*e['test_acc'])} ({len(e['seeds'])} seeds)" for e in cands)
        verdict = "met" if best["test_acc"][0] >= threshold - 1e-9 else "missed"
        out.append(f"- {dataset} {label}: **{verdict}** — {shown}.")
    loso = [e for e in entries if e["dataset"] == "FSDD" and e["split"].startswith("loso-") and e["family"] == "image"]
    if loso:
        accs = [e["test_acc"][0] for e in loso]
        verdict = "met" if np.mean(accs) >= 0.85 and len(loso) == 6 else "missed"
        per = ", ".join(f"{e['split'].removeprefix('loso-')} {e['test_acc'][0]:.3f}" for e in loso)
        out.append(f"- FSDD leave-one-speaker-out mean ≥ 0.85: **{verdict}** — mel {np.mean(accs):.3f} over "
                   f"{len(loso)} speakers ({per}).")
    else:
        out.append("- FSDD leave-one-speaker-out mean ≥ 0.85: **not run**.")
    bal = [e for e in entries if e["dataset"] == "Balabit" and e["family"] == "image"]
    if bal:
        e = max(bal, key=lambda x: x["test_acc"][0])
        ok = e["test_acc"][0] >= 0.80 and e["test_session_acc"][0] >= 1.0
        out.append(f"- Balabit window accuracy ≥ 0.80 with session accuracy 1.0: **{'met' if ok else 'missed'}** — "
                   f"{e['method']} windows {fmt_ms(*e['test_acc'])}, sessions {fmt_ms(*e['test_session_acc'])}.")
    else:
        out.append("- Balabit window accuracy ≥ 0.80 with session accuracy 1.0: **not run**.")
    return out


def goals(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The goals of issue 6, each met / missed / not run, from one suite's rows."""
    entries = aggregate(rows)
    out = []

    def line(name: str, target: str, e: dict[str, Any] | None, ok: bool | None, extra: str = "") -> None:
        if e is None:
            out.append(f"- {name} {target}: **not run** in this suite.")
            return
        verdict = "met" if ok else "missed"
        seeds = len(e["seeds"])
        out.append(f"- {name} {target}: **{verdict}** — best image route {e['method']} ({e['init']}) "
                   f"{fmt_ms(*e['test_acc'])} over {seeds} seed{'s' if seeds != 1 else ''}{extra}.")

    for ds, target, test in (("GunPoint", "≥ 0.993", lambda m: m >= 0.993), ("Coffee", "= 1.00", lambda m: m >= 1.0),
                             ("PigCVP", "well above 0.529", lambda m: m >= 0.65)):
        e = _best(entries, ds, "given")
        line(ds, target, e, e is not None and test(e["test_acc"][0]))
    e = _best(entries, "FSDD", "official")
    line("FSDD official", "= 1.000", e, e is not None and e["test_acc"][0] >= 1.0)
    loso = [x for x in entries
            if x["dataset"] == "FSDD" and x["split"].startswith("loso-") and x["init"] == "pretrained"
            and not x.get("settings")]
    if loso:
        # One candidate per method at one size, length and subset; the goal is about all six speakers.
        by_setup: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
        for x in loso:
            setup = (x["method"], str(x["image_size"]), str(x["epochs"]), x["variant"] or "")
            by_setup[setup][x["split"].removeprefix("loso-")] = x["test_acc"][0]
        (method, *_), per_speaker = max(by_setup.items(), key=lambda kv: (len(kv[1]), np.mean(list(kv[1].values()))))
        accs, held = list(per_speaker.values()), sorted(per_speaker)
        verdict = "met" if np.mean(accs) >= 0.85 and len(held) == 6 else "missed" if len(held) == 6 else (
            "met on the speakers run" if np.mean(accs) >= 0.85 else "missed on the speakers run")
        lr = [x["test_acc"][0] for x in entries if x["dataset"] == "FSDD" and x["split"].startswith("loso-")
              and x["method"] == "mfcc-stats-logreg"]
        versus = f"; MFCC statistics + logistic regression {np.mean(lr):.3f} over {len(lr)}" if lr else ""
        out.append(f"- FSDD leave-one-speaker-out mean ≥ 0.85: **{verdict}** — {method} (pretrained) "
                   f"{np.mean(accs):.3f} averaged over {len(held)} held-out speaker(s) ({', '.join(held)}){versus}.")
    else:
        out.append("- FSDD leave-one-speaker-out mean ≥ 0.85: **not run** in this suite.")
    e = _best(entries, "Balabit", "last-session")
    rf = _best(entries, "Balabit", "last-session", family="baseline", init=None)
    if e is None:
        out.append("- Balabit window accuracy above the RF baseline, session accuracy 1.0: **not run** in this suite.")
    else:
        rf_acc = rf["test_acc"][0] if rf else float("nan")
        win_ok = rf is not None and e["test_acc"][0] > rf_acc
        sess = e["test_session_acc"][0]
        out.append(f"- Balabit window accuracy above the RF baseline ({rf_acc:.3f}): "
                   f"**{'met' if win_ok else 'missed'}** — {e['method']} ({e['init']}) {fmt_ms(*e['test_acc'])}.")
        out.append(f"- Balabit session accuracy 1.0: **{'met' if sess >= 1.0 else 'missed'}** — "
                   f"{fmt_ms(*e['test_session_acc'])} (baseline RF: "
                   f"{fmt_ms(*rf['test_session_acc']) if rf else '–'}).")
    return out


def _runs(out_dir: Path, suite: str) -> list[dict[str, Any]]:
    path = out_dir / f"{suite}-runs.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _machine_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    seen = set()
    for run in runs:
        m = run.get("machine", {})
        versions = ", ".join(f"{k} {v}" for k, v in sorted(m.get("versions", {}).items()))
        gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
        desc = f"{m.get('cpu')} ({m.get('cores')} cores){gpu}; Python {m.get('python')}; {versions}"
        if desc not in seen:
            seen.add(desc)
            lines.append(f"- Machine: {desc}")
    for run in runs:
        lines.append(f"- `{run.get('command')}` — {run.get('started')} → {run.get('finished')}, "
                     f"{run.get('recorded')} configurations recorded (seeds: {run.get('seeds')}).")
    return lines


# -- plots ----------------------------------------------------------------------------------
def plot_accuracy(rows: Sequence[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Bar chart: test accuracy per representation (error bars: std over seeds), one panel per data set."""
    entries = _order(aggregate(rows))
    if not entries:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        panels[(e["dataset"], e["split"])].append(e)
    n = len(panels)
    cols = min(3, n)
    rows_n = math.ceil(n / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(5.2 * cols, 3.6 * rows_n), squeeze=False)
    colours = {"pretrained": "#1f77b4", "scratch": "#ff7f0e", "-": "#7f7f7f"}
    for ax, ((dataset, split), es) in zip(axes.ravel(), panels.items()):
        labels = [e["method"] + ("" if e["init"] == "-" else f"\n{e['init'][:3]}") for e in es]
        means = [e["test_acc"][0] for e in es]
        stds = [e["test_acc"][1] if e["test_acc"][2] > 1 else 0.0 for e in es]
        ax.bar(range(len(es)), means, yerr=stds, capsize=3, color=[colours.get(e["init"], "#7f7f7f") for e in es])
        for pub in PUBLISHED.get((dataset, split), []):
            if "AUC" not in pub[0]:
                ax.axhline(pub[1], color="k", lw=0.6, ls=":")
        ax.set_xticks(range(len(es)))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{dataset} / {split}", fontsize=9)
        ax.set_ylabel("test accuracy")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(f"{title} (blue: pretrained, orange: scratch, grey: baseline; dotted: published)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


_VALID_KEYS = ("valid_accuracy", "valid_acc", "accuracy", "val_accuracy")


def _curve(history: list[dict[str, Any]]) -> list[float]:
    for key in _VALID_KEYS:
        if history and all(key in h for h in history):
            return [float(h[key]) for h in history]
    for h in history[:1]:  # nested metrics, e.g. {"valid": {"accuracy": ...}}
        for side in ("valid", "metrics"):
            if isinstance(h.get(side), dict) and "accuracy" in h[side]:
                return [float(x[side]["accuracy"]) for x in history]
    return []


def plot_curves(history_dir: Path, path: Path, title: str) -> Path | None:
    """Validation accuracy per epoch (mean over seeds) per representation, one panel per data set."""
    files = sorted(history_dir.glob("*.json")) if history_dir.is_dir() else []
    curves: dict[tuple[str, str], dict[str, list[list[float]]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        cfg, curve = data.get("config", {}), _curve(data.get("history", []))
        if curve:
            settings = data.get("settings") or ""
            name = (f"{cfg.get('method')} ({'pre' if cfg.get('pretrained') else 'scr'}, {cfg.get('image_size')} px)"
                    + (f" [{settings}]" if settings else ""))
            curves[(cfg.get("dataset"), cfg.get("split"))][name].append(curve)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(curves)
    cols = min(3, n)
    rows_n = math.ceil(n / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(5 * cols, 3.4 * rows_n), squeeze=False)
    for ax, ((dataset, split), by_name) in zip(axes.ravel(), sorted(curves.items())):
        for name, cs in sorted(by_name.items()):
            length = min(len(c) for c in cs)
            arr = np.asarray([c[:length] for c in cs])
            ax.plot(range(1, length + 1), arr.mean(axis=0), marker=".", label=name,
                    ls="-" if "pre" in name else "--")
        ax.set_title(f"{dataset} / {split}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- the report ---------------------------------------------------------------------------------
NOTES = """\
## How to read this

- Each row is one data set × split × method × init; **Test acc.** is the mean ± sample standard deviation
  over the seeds listed (a single number when one seed ran). Baselines ran in the same run, on the same
  records, windows and splits, read by the converters' own readers. "published" rows are from the literature
  (same train/test splits; not re-measured here).
- Splits are fixed (they never depend on the seed): UCR sets use their given train/test split with 20 % of
  train (random with a fixed seed, never a class's last example) carved out for validation, so the image
  models and the baselines train on 80 % of the published training set — a handicap the published numbers do
  not carry (PigCVP keeps 83 of its 104 training series: 1 or 2 per class). FSDD official: takes 0–4 test,
  5–9 validation, the rest train; leave-one-speaker-out: one speaker is the test set, every 10th take
  (9, 19, ...) of the others validation. Balabit: each user's last session (by name) is the test set, the one
  before it validation, the rest train; 300-event windows; session accuracy averages the window probabilities
  of each test session.
- Model selection reads the validation side only; the test side is evaluated once per configuration after
  training. Default pipeline everywhere (no per-data-set tuning): `tf_efficientnet_lite0`, all layers
  trained with one-cycle from epoch 1 at 2e-3.
- `[takes20]` / `[events6000]` mark subsets (FSDD takes 0–19: the whole official test set and 600 training
  clips; the first 6,000 events of each Balabit session: 20 windows per session).
- No early stopping and no epoch picking: the model after the last epoch of the one-cycle schedule is
  evaluated (the default pipeline). Early stopping on the validation loss (patience 3) was tried first and
  dropped: on Coffee (6 validation series) and PigCVP (21 validation series, 52 classes) it stopped during the
  one-cycle warm-up and restored near-random weights (test 0.50 and 0.03).
"""


def write_report(out_dir: Path, results_md: Path) -> Path:
    """Write ``results_md`` (and the plots under ``out_dir``) from every ``<suite>.csv`` in ``out_dir``."""
    parts = ["# any2img benchmark results", "",
             "Generated by `any2img bench` (`any2img.bench.report`) from the CSVs in "
             f"`{_rel(out_dir, results_md.parent)}`. Do not edit by hand.", ""]
    suites = [s for s in SUITE_ORDER if (out_dir / f"{s}.csv").is_file()]
    suites += sorted(p.stem for p in out_dir.glob("*.csv") if p.stem not in suites and _is_results_csv(p))
    if not suites:
        parts.append("No results yet: run `any2img bench --suite quick`.")
    for suite in suites:
        rows = read_rows(out_dir / f"{suite}.csv")
        if not rows:
            continue
        title = f"Suite `{suite}`" if suite in SUITE_ORDER else f"Extra results `{suite}.csv`"
        parts += [f"## {title}", "", results_table(rows), ""]
        if suite == "defaults":
            parts += ["### Targets of the CLI defaults (issue 10)", "", *defaults_goals(rows), ""]
        elif suite in SUITE_ORDER:
            parts += ["### Goals (issue 6)", "", *goals(rows), ""]
        bar = plot_accuracy(rows, out_dir / f"{suite}-accuracy.png", f"suite {suite}: test accuracy")
        curves = plot_curves(out_dir / "histories" / suite, out_dir / f"{suite}-curves.png",
                             f"suite {suite}: validation accuracy per epoch (mean over seeds)")
        for p, what in ((bar, "Test accuracy per representation"), (curves, "Learning curves")):
            if p is not None:
                parts += [f"![{what}]({_rel(p, results_md.parent)})", ""]
        runs = _runs(out_dir, suite)
        if runs:
            parts += ["### Runs", "", *_machine_lines(runs), ""]
    speed = read_rows(out_dir / "speed.csv")
    if speed:
        parts += ["## Conversion speed", "",
                  "Images per second at one image per call (any2img) against the straightforward way with the "
                  "library of the field, same inputs, same size, no file writing; best of the repeats. From "
                  f"`python -m benchmarks.speed` on {speed[0].get('machine', '?')}.", "", speed_table(speed), ""]
    parts.append(NOTES)
    extra = out_dir / "ANALYSIS.md"
    if extra.is_file():
        parts += ["", extra.read_text(encoding="utf-8")]
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
    return results_md


#: The columns that make a CSV a table of benchmark rows (others, e.g. speed.csv or a study's, are not).
_KEY_COLUMNS = frozenset({"dataset", "split", "converter", "pretrained", "seed"})


def _is_results_csv(path: Path) -> bool:
    with open(path, newline="", encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    return _KEY_COLUMNS <= set(header)


def speed_table(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of a speed CSV (``python -m benchmarks.speed`` in a checkout writes it)."""
    lines = ["| Case | Inputs | any2img img/s | Reference | Reference img/s | any2img speed-up | "
             "Reference first call s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['inputs']} | {float(r['ours_images_per_s']):,.0f} | {r['reference']} | "
                     f"{float(r['reference_images_per_s']):,.0f} | {float(r['speedup']):.1f}× | "
                     f"{float(r['reference_first_call_s']):.1f} |")
    return "\n".join(lines)


def _rel(path: Path, start: Path) -> str:
    try:
        return path.resolve().relative_to(start.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
