"""Where calibration's shipped files are: light enough for the command line to name them as
defaults without importing the fitting code."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_TARGETS = HERE / "data" / "targets.csv"  # the documented figures the model is fitted to
SHIPPED = HERE / "posterior"  # the calibration the model runs with by default
