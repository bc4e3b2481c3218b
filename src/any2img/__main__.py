"""``python -m any2img`` runs the command line."""

from any2img.cli import main

raise SystemExit(main())
