"""any2img.data."""
