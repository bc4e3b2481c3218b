"""The suites are :mod:`any2img.bench.suites`; these names stay here for the checkout's scripts."""

from __future__ import annotations

from any2img.bench.suites import BASELINES, CONVERTERS, FSDD_SPEAKERS, SUITES, Config, build_suite, parse_only

__all__ = ["BASELINES", "CONVERTERS", "FSDD_SPEAKERS", "SUITES", "Config", "build_suite", "parse_only"]
