"""migflow: an agent-based model of regional migrant flows in the Americas.

The distribution installs its layers under this one name, so nothing collides with other
packages in a user's environment: ``migflow.model`` (the engine), ``migflow.calibration`` and
``migflow.sweeps`` (which run the engine), ``migflow.app`` (the Streamlit app) and
``migflow.cli`` (the command line), with the shipped ``migflow.scenarios``. Imports go one
way: model <- {calibration, sweeps} <- {app, cli}. See docs/architecture.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("migflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
