"""The Streamlit what-if app for policy staff (``migflow app``).

Small modules, in the style of Mesa's examples: ``main.py`` is the entry point,
``state.py`` builds Scenarios from the sidebar's widgets, ``runs.py`` runs them (cached),
``indicators.py`` computes the headline numbers, ``charts.py`` draws them, ``documented.py``
reads the documented figures drawn over the simulated lines, ``downloads.py`` packs results
and scenarios for download, and ``pages/`` holds the pages. ``state``, ``indicators``, ``charts``,
``documented`` and ``downloads`` do not use Streamlit, so they are tested directly;
``runs`` (the cached run) and ``sidebar`` (the widgets) do.
"""
