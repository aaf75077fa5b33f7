"""migflow: an agent-based model of regional migrant flows in the Americas.

The distribution installs its layers under this one name, so nothing collides with other
packages in a user's environment: ``migflow.model`` (the engine), ``migflow.calibration`` and
``migflow.sweeps`` (which run the engine), ``migflow.app`` (the Streamlit app) and
``migflow.cli`` (the command line), with the shipped ``migflow.scenarios``. Imports go one
way: model <- {calibration, sweeps} <- {app, cli}. See docs/architecture.md.
"""


def __getattr__(name: str) -> str:
    # the version is looked up when asked for (importlib.metadata takes about 50 ms to
    # import, a tenth of the time `migflow --help` may take)
    if name != "__version__":
        raise AttributeError(f"module 'migflow' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("migflow")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
