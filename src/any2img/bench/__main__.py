"""``python -m any2img.bench``: run a benchmark suite (the same as ``any2img bench``)."""

from __future__ import annotations

import sys

from any2img.bench import main

if __name__ == "__main__":
    sys.exit(main())
