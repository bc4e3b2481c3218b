"""The benchmark suites: which configurations a run covers.

A configuration is one (data set, split, method, init, seed). A method is a
converter name (the image route: convert, fine-tune, evaluate) or a baseline
name (a non-image model on the same raw signals and splits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

#: The six FSDD speakers, each held out in turn by the ``loso-<speaker>`` splits.
FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")

__all__ = ["BASELINES", "CONVERTERS", "SUITES", "Config", "build_suite", "parse_only"]

#: Representations per modality (every built-in converter of that kind).
CONVERTERS = {
    "timeseries": ("gasf", "gadf", "mtf", "recurrence", "lineplot", "gaf_mtf"),
    "audio": ("mel", "stft", "mfcc", "cqt", "chroma", "mel_deltas"),
    "mouse": ("trajectory", "mouse_kinematics", "mouse_histogram"),
}
#: Baselines per modality; the value says whether the baseline depends on the seed.
BASELINES = {
    "timeseries": {"minirocket": True, "1nn-euclidean": False, "1nn-dtw": False},
    "audio": {"mfcc-stats-logreg": False, "mfcc-stats-rf": True},
    "mouse": {"features-rf": True},
}


@dataclass(frozen=True)
class Config:
    """One benchmark run.

    ``pretrained`` is None for baselines. ``variant`` names a subset of the
    raw data (``"takes20"``: FSDD takes 0-19; ``"events6000"``: the first
    6,000 events of each Balabit session); ``""`` is everything.
    """

    dataset: str
    split: str
    method: str
    family: str  # "image" | "baseline"
    seed: int = 0
    pretrained: bool | None = None
    image_size: int = 0
    epochs: int = 0
    batch_size: int = 32
    base_lr: float = 2e-3
    variant: str = ""
    params: tuple[tuple[str, Any], ...] = field(default=())
    augment: str = ""
    #: ``"defaults"``: exactly what ``any2img train`` does without flags (its split of the non-test items,
    #: its budget, input size and model selection); ``""``: this configuration's size, epochs and batch.
    recipe: str = ""

    @property
    def init(self) -> str:
        """``"pretrained"``, ``"scratch"`` or ``"-"`` (baselines)."""
        if self.pretrained is None:
            return "-"
        return "pretrained" if self.pretrained else "scratch"

    @property
    def settings(self) -> str:
        """What this run changes from the default pipeline, e.g. ``"augment=specaugment;ref=full_scale"``.

        Converter parameters and the training augmentation, sorted; ``""``
        for the default pipeline (every configuration a suite defines).
        """
        if self.family != "image":
            return ""
        parts = [f"{k}={v}" for k, v in self.params]
        if self.augment:
            parts.append(f"augment={self.augment}")
        return ";".join(sorted(parts))

    @property
    def key(self) -> tuple[Any, ...]:
        """What identifies a configuration in the results CSV.

        (dataset, split, method, init, seed, variant, image size, epochs,
        settings): the same configuration run at another size, length or
        setting is another row.
        """
        image = self.family == "image"
        return (self.dataset, self.split, self.method, self.init, int(self.seed), self.variant,
                str(self.image_size) if image and self.image_size else "", self.epochs_label, self.settings)

    @property
    def epochs_label(self) -> str:
        """The epochs column: a number, ``"auto"`` for the CLI defaults, ``""`` for baselines."""
        if self.family != "image":
            return ""
        return "auto" if self.recipe == "defaults" else str(self.epochs)

    def converter_params(self) -> dict[str, Any]:
        return dict(self.params)

    def describe(self) -> str:
        extra = f" {self.image_size}px {self.epochs} epochs" if self.family == "image" else ""
        if self.recipe == "defaults":
            extra = " CLI defaults"
        sub = "".join(f" [{x}]" for x in (self.variant, self.settings) if x)
        return f"{self.dataset}/{self.split}{sub} {self.method} ({self.init}) seed={self.seed}{extra}"

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "params": dict(self.params)}, sort_keys=True)


def _image(dataset: str, split: str, method: str, pretrained: bool, seed: int, **kw: Any) -> Config:
    return Config(dataset, split, method, "image", seed=seed, pretrained=pretrained, **kw)


def _baselines(dataset: str, split: str, modality: str, seeds: range, variant: str = "") -> list[Config]:
    out = []
    for name, seeded in BASELINES[modality].items():
        for seed in seeds if seeded else range(1):
            out.append(Config(dataset, split, name, "baseline", seed=seed, variant=variant))
    return out


def _quick(n_seeds: int) -> list[Config]:
    seeds = range(n_seeds)
    ts = {"image_size": 64, "epochs": 10, "batch_size": 16}
    audio = {"image_size": 64, "epochs": 4, "variant": "takes20"}
    mouse = {"image_size": 64, "epochs": 4, "variant": "events6000"}
    configs: list[Config] = []
    for seed in seeds:
        configs += [_image("GunPoint", "given", m, True, seed, **ts) for m in ("gadf", "gasf", "recurrence")]
        configs.append(_image("GunPoint", "given", "gadf", False, seed, **ts))
        configs.append(_image("FSDD", "official", "mel", True, seed, **audio))
        configs.append(_image("Balabit", "last-session", "trajectory", True, seed, **mouse))
    configs += _baselines("GunPoint", "given", "timeseries", seeds)
    configs += _baselines("FSDD", "official", "audio", seeds, variant="takes20")
    configs += _baselines("Balabit", "last-session", "mouse", seeds, variant="events6000")
    return configs


def _full(n_seeds: int) -> list[Config]:
    seeds = range(n_seeds)
    sizes = {"timeseries": {"image_size": 128, "epochs": 30, "batch_size": 16},
             "audio": {"image_size": 128, "epochs": 5},
             "mouse": {"image_size": 128, "epochs": 5}}
    plan = [("GunPoint", "given", "timeseries"), ("Coffee", "given", "timeseries"),
            ("PigCVP", "given", "timeseries"), ("BasicMotions", "given", "timeseries"),
            ("FSDD", "official", "audio"),
            *[("FSDD", f"loso-{s}", "audio") for s in FSDD_SPEAKERS],
            ("Balabit", "last-session", "mouse")]
    configs: list[Config] = []
    for dataset, split, modality in plan:
        for method in CONVERTERS[modality]:
            for pretrained in (True, False):
                for seed in seeds:
                    configs.append(_image(dataset, split, method, pretrained, seed, **sizes[modality]))
        configs += _baselines(dataset, split, modality, seeds)
    return configs


def _cpu(n_seeds: int) -> list[Config]:
    """Every data set and every converter, sized for 2 CPU cores (about 1 h 15 min idle).

    64 px throughout. The four UCR sets in full (30 epochs). FSDD: the
    official split on takes 0-19 (the whole official test set; 600 training
    and 300 validation clips) for every audio converter; leave-one-speaker-out for each of the
    six speakers on all 3,000 clips with ``mel``. Balabit: the first 6,000
    events of each session. Every converter is fine-tuned from ImageNet
    weights; the main converter of each modality also from scratch.
    """
    seeds = range(n_seeds)
    sizes: dict[str, dict[str, Any]] = {"timeseries": {"image_size": 64, "epochs": 30, "batch_size": 16},
                                        "audio": {"image_size": 64, "epochs": 4, "variant": "takes20"},
                                        "loso": {"image_size": 64, "epochs": 3},
                                        "mouse": {"image_size": 64, "epochs": 4, "variant": "events6000"}}
    main = {"timeseries": "gadf", "audio": "mel", "mouse": "trajectory"}
    plan = [("GunPoint", "given", "timeseries", CONVERTERS["timeseries"]),
            ("Coffee", "given", "timeseries", CONVERTERS["timeseries"]),
            ("PigCVP", "given", "timeseries", CONVERTERS["timeseries"]),
            ("BasicMotions", "given", "timeseries", CONVERTERS["timeseries"]),
            ("FSDD", "official", "audio", CONVERTERS["audio"]),
            *[("FSDD", f"loso-{s}", "loso", ("mel",)) for s in FSDD_SPEAKERS],
            ("Balabit", "last-session", "mouse", CONVERTERS["mouse"])]
    configs: list[Config] = []
    for dataset, split, size, methods in plan:
        modality = "audio" if size == "loso" else size
        for method in methods:
            for seed in seeds:
                configs.append(_image(dataset, split, method, True, seed, **sizes[size]))
        if size != "loso":
            for seed in seeds:
                configs.append(_image(dataset, split, main[modality], False, seed, **sizes[size]))
        configs += _baselines(dataset, split, modality, seeds, variant=sizes[size].get("variant", ""))
    return configs


def _defaults(n_seeds: int) -> list[Config]:
    """The CLI's defaults, untuned, on every data set (issue 10): what a user gets with no flags.

    Each image configuration converts with the converter's defaults (plus
    the data's facts: FSDD's 8 kHz, BasicMotions' 6 channels tiled, which
    are also what ``any2img convert`` without flags now takes from such data:
    ``AudioConverter.params_from_sources``, ``multivariate="auto"``), marks
    only the given test side, and then does what ``any2img train`` does:
    ``split_items(valid_pct=0.2, seed=42)`` of the rest (grouped by speaker
    or session where the data has groups), the budget of
    :mod:`any2img.learn.budget`, and the epoch the Learner's default
    selection keeps (``selection="paired"``: the latest epoch whose per-item
    validation losses are within two standard errors of the lowest epoch's).
    Leave-one-speaker-out runs one seed per speaker (six speakers) to
    fit 2 CPU cores; Balabit uses the first 6,000 events of each session,
    drawn as ``mouse_histogram`` (chosen over ``trajectory`` on the
    validation protocol, ``benchmarks/DEFAULTS.md``, ninth round).
    """
    seeds = range(n_seeds)
    auto = {"recipe": "defaults"}
    plan = [("GunPoint", "given", "timeseries", ("gadf", "lineplot"), seeds, ""),
            ("Coffee", "given", "timeseries", ("gadf", "lineplot"), seeds, ""),
            ("PigCVP", "given", "timeseries", ("gadf", "lineplot"), seeds, ""),
            ("BasicMotions", "given", "timeseries", ("gadf", "lineplot"), seeds, ""),
            ("FSDD", "official", "audio", ("mel",), seeds, ""),
            *[("FSDD", f"loso-{s}", "audio", ("mel",), range(1), "") for s in FSDD_SPEAKERS],
            ("Balabit", "last-session", "mouse", ("mouse_histogram",), seeds, "events6000")]
    configs: list[Config] = []
    for dataset, split, modality, methods, runs, variant in plan:
        for method in methods:
            for seed in runs:
                configs.append(_image(dataset, split, method, True, seed, variant=variant, **auto))
        configs += _baselines(dataset, split, modality, runs, variant=variant)
    return configs


SUITES = {"quick": (_quick, 1), "full": (_full, 3), "cpu": (_cpu, 3), "defaults": (_defaults, 3)}


def parse_only(only: list[str] | None) -> list[tuple[str | None, ...]]:
    """Parse ``--only`` items: ``DATASET[:SPLIT[:METHOD[:INIT]]]`` (case-insensitive; empty parts match all)."""
    out: list[tuple[str | None, ...]] = []
    for item in only or []:
        parts = item.split(":")
        if not parts[0] or len(parts) > 4:
            raise ValueError(f"--only takes DATASET[:SPLIT[:METHOD[:INIT]]] (got {item!r})")
        parts += [""] * (4 - len(parts))
        out.append(tuple(p.lower() or None for p in parts))
    return out


def _selected(cfg: Config, only: list[tuple[str | None, ...]]) -> bool:
    if not only:
        return True
    have = (cfg.dataset.lower(), cfg.split.lower(), cfg.method.lower(), cfg.init)
    return any(all(want is None or want == got for want, got in zip(item, have)) for item in only)


def build_suite(name: str, *, seeds: int | None = None, only: list[str] | None = None,
                overrides: dict[str, Any] | None = None) -> list[Config]:
    """Return the configurations of suite ``name``, filtered by ``only``.

    ``seeds`` replaces the suite's number of seeds; ``overrides`` replaces
    fields of every image configuration (e.g. ``{"epochs": 2}``).
    """
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    factory, default_seeds = SUITES[name]
    configs = factory(default_seeds if seeds is None else seeds)
    picked = parse_only(only)
    from any2img.bench.datasets import DATASETS  # the data sets import the suites' speaker list

    known = {d.lower() for d in DATASETS}
    for dataset, *_ in picked:
        if dataset not in known:
            raise ValueError(f"--only: unknown data set {dataset!r}; known: {', '.join(DATASETS)}")
    configs = [c for c in configs if _selected(c, picked)]
    if overrides:
        configs = [replace(c, **overrides) if c.family == "image" else c for c in configs]
    return configs
