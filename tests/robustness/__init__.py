"""Issue 13's robustness suite: fuzzing, broken files, kills, concurrency, tampering, memory."""
