"""any2img.learn."""
