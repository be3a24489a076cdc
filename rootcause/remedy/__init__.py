"""After the cause: the remedy. A config patch that removes or reverts what a finding names, a
filtered copy of the run's samples without the behaviour, and on lab runs the fix verified by
re-simulation. Headless library functions (`write_fix`, `filter_samples`) that the CLI and the
chat call; the user's run folder and config repo are only read."""
