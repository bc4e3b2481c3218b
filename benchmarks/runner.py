"""The runner is :mod:`any2img.bench.runner`; these names stay here for the checkout's scripts."""

from __future__ import annotations

from any2img.bench.runner import (
    FIELDS,
    _params_id,
    _unit,
    _variant_dir,
    append_row,
    convert_cached,
    done_keys,
    image_split,
    main,
    parse_params,
    pending,
    read_rows,
    row_key,
    run_configs,
    run_from_args,
    session_accuracy,
)
from benchmarks import CACHE_DIR, RESULTS_DIR

__all__ = ["CACHE_DIR", "FIELDS", "RESULTS_DIR", "_params_id", "_unit", "_variant_dir", "append_row",
           "convert_cached", "done_keys", "image_split", "main", "parse_params", "pending", "read_rows", "row_key",
           "run_configs", "run_from_args", "session_accuracy"]
