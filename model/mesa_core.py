"""Mesa, imported without loading the parts of it this model never uses.

``import mesa`` also imports Mesa's grids and experimental spaces (``mesa.space``,
``mesa.discrete_space``, ``mesa.experimental``), which pull in scipy.spatial and networkx:
about half of Mesa's import time, paid by every command that runs the model although the
model has no space (its migrants are numpy columns, its countries agents without a
position). Those subpackages are registered as deferred modules before Mesa is imported
(see ``_Deferred``): they load in full on first use, so code in the same process that uses
them sees no difference.

Import Mesa through this module (``from .mesa_core import mesa``).
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import types
from contextlib import contextmanager
from pathlib import Path

DEFERRED = ("mesa.space", "mesa.discrete_space", "mesa.experimental")


class _Deferred(types.ModuleType):
    """A module whose code runs on the first lookup of a name it does not have yet.

    Not ``importlib.util.LazyLoader``: its modules load on any attribute access, and an
    ``import`` statement reads ``__spec__``, so ``import mesa`` would load them at once.
    Here ``__spec__``, ``__path__`` and ``__name__`` are plain attributes; only a missing
    name runs the module, in place (as an import would), after which it is an ordinary
    module."""

    def __getattr__(self, attr: str):
        if self.__dict__.get("_running"):  # a name looked up while the code runs
            raise AttributeError(attr)
        self.__dict__["_running"] = True
        try:
            self.__spec__.loader.exec_module(self)
        finally:
            del self.__dict__["_running"]
        self.__class__ = types.ModuleType
        return getattr(self, attr)


def _defer(name: str, mesa_dir: Path) -> None:
    """Put a deferred module for the subpackage ``name`` of Mesa in ``sys.modules``."""
    folder = mesa_dir.joinpath(*name.split(".")[1:])
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, folder.with_suffix(".py"))
    if spec is None or spec.loader is None:  # an unexpected layout: import Mesa whole
        return
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.modules[name] = module


if "mesa" not in sys.modules:
    _spec = importlib.util.find_spec("mesa")
    if _spec is not None and _spec.submodule_search_locations:
        _dir = Path(next(iter(_spec.submodule_search_locations)))
        for _name in DEFERRED:
            _defer(_name, _dir)


def _frames(frame) -> list[inspect.FrameInfo]:
    """``frame`` and its callers as ``inspect.getouterframes`` lists them, without looking up
    any source file."""
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(
            inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return out


@contextmanager
def _frames_without_source():
    """Mesa's modules name their loggers at import (``mesa.mesa_logging``) from
    ``inspect.stack()`` and ``inspect.getouterframes``, which look up the source file of every
    frame on the stack and read a line of it: about 0.2 s per process under a command line's
    deep stack, for names that need only the frames. While Mesa is imported both list the
    same frames with the names Mesa reads, and no source."""
    stack, outer = inspect.stack, inspect.getouterframes
    inspect.stack = lambda context=1: _frames(sys._getframe(1))
    inspect.getouterframes = lambda frame, context=1: _frames(frame)
    try:
        yield
    finally:
        inspect.stack, inspect.getouterframes = stack, outer


with _frames_without_source():
    import mesa  # after the deferred modules are in place

__all__ = ["mesa"]
