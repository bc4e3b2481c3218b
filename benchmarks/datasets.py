"""The data sets are :mod:`any2img.bench.datasets`; these names stay here for the checkout's scripts."""

from __future__ import annotations

from any2img.bench.datasets import DATASETS, DatasetSpec, Unit, carve_valid, data_root, fsdd_fields, get_dataset

__all__ = ["DATASETS", "DatasetSpec", "Unit", "carve_valid", "data_root", "fsdd_fields", "get_dataset"]
