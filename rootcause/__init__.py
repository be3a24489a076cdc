"""rootcause: find out why a language model picked up a pathology during RL training."""

import os

__version__ = "0.1.0"

# OpenBLAS's idle threads busy-wait 2**28 cycles (about 0.1 s) for more work after each call.
# The statistics make many short BLAS calls (dot products of run-long vectors) between DuckDB
# and Arrow work that wants the same cores, and on a busy 2-core machine that spinning made
# the CoT check's correlations 5-50x slower (wall and CPU). 2**12 cycles keeps the threads
# for back-to-back calls and lets them sleep otherwise. It changes no result (the work is split
# among the same threads), and is read once, when numpy loads OpenBLAS, so it is set here,
# before any rootcause module imports numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "12")
