"""``python -m migflow``: the command line, for a process started with the same Python (the
app starts sweeps this way, whether or not the ``migflow`` script is on its PATH)."""

from migflow.cli import main

main()
