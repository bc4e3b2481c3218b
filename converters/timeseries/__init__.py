"""Time-series converters: Gramian angular, Markov transition, recurrence and line-plot images."""
