"""any2img.datasets."""
