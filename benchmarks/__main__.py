"""``python -m benchmarks``: ``any2img bench`` with this checkout's folders as defaults."""

from __future__ import annotations

import sys

from any2img.bench import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m benchmarks"))
