"""The ``migflow`` command line: run, validate and compare scenarios.

Bad input never produces a traceback: every ``InputError`` becomes one line on stderr naming
the file, the field and what is allowed, with exit status 2, and nothing is written. A usage
error (an unknown option, a word where a number goes) is one line too, with exit status 2.
Everything that can be checked before a run is checked before it: the file, the options,
the output folder and the work asked for (``model/limits.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from migflow.model.errors import printable
from migflow.model.memory import keep_freed_memory
from migflow.model.terminal import YES, err

# typer 0.2x carries its own copy of click; the exceptions it raises are that copy's.
_click = typer.core._click


class OneLineErrors(typer.core.TyperGroup):
    """Usage errors as one line (``error: migflow run: No such option: --bogus``) on
    stderr with exit status 2, like every other input error, instead of click's usage
    block or typer's five-line box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except _click.exceptions.NoArgsIsHelpError as exc:
            err.print(exc.ctx.get_help(), highlight=False, markup=False)
            code = 0
        except _click.exceptions.ClickException as exc:
            where = exc.ctx.command_path if getattr(exc, "ctx", None) else "migflow"
            message = printable(exc.format_message())
            hint = f" (see {where} --help)" if isinstance(exc, _click.exceptions.UsageError) else ""
            err.print(
                f"error: {where}: {message}{hint}", highlight=False, soft_wrap=True, markup=False
            )
            code = exc.exit_code
        except typer.exceptions.Abort:
            err.print("aborted; nothing was written")
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: Typer's rich help imports rich.markdown and markdown-it (0.2 s of the
    # 0.5 s that `migflow --help` may take), for boxes around the same text
    rich_markup_mode=None,
    no_args_is_help=True,
    help="migflow: what-if model of regional migrant flows in the Americas.",
)


def _version(value: bool) -> None:
    if value:
        from migflow import __version__

        err.print(f"migflow {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit"
    ),
) -> None:
    """migflow: what-if model of regional migrant flows in the Americas."""


@app.command()
def run(
    scenario: str = typer.Argument(..., help="Scenario file, or a name in scenarios/ (baseline)"),
    out: Path = typer.Option(None, "--out", help="Folder for the Parquet tables and manifest"),
    seed: int = typer.Option(None, "--seed", help="Override the scenario's seed"),
    scale: int = typer.Option(None, "--scale", help="People per agent (1 = every person)"),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or tables"),
    draws: int = typer.Option(
        0, "--draws", help="Also run K posterior draws (2-1000): medians and 90% intervals"
    ),
    yes: bool = YES,
) -> None:
    """Run one scenario, print a yearly summary and write its tables."""
    from migflow import scenario_commands

    scenario_commands.run(scenario, out, seed, scale, quiet, draws, yes)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Scenario files to check")) -> None:
    """Check scenario files; exit status 2 at the first invalid one."""
    from migflow import scenario_commands

    scenario_commands.validate(files)


@app.command()
def compare(
    a: str = typer.Argument(..., help="Scenario file/name, or a results folder"),
    b: str = typer.Argument(..., help="Scenario file/name, or a results folder"),
    draws: int = typer.Option(
        0,
        "--draws",
        help="Run both under K posterior draws (2-1000; 20 or more advised): each difference "
        "with its median and 90% interval",
    ),
    seed: int = typer.Option(None, "--seed", help="Override both scenarios' seed"),
    scale: int = typer.Option(None, "--scale", help="People per agent (1 = every person)"),
    out: Path = typer.Option(
        None, "--out", help="Folder for comparison.csv (and differences.csv per draw)"
    ),
    workers: int = typer.Option(None, "--workers", help="Local worker processes (default: cores)"),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Run the draws on this Dask scheduler (host:port)"
    ),
    years: str = typer.Option(
        None, "--years", help="Years to compare over, e.g. 2026-2035 (default: the whole window)"
    ),
    split: bool = typer.Option(
        False,
        "--split",
        help="Each instrument B differs by: alone (A plus it) and last (B without it), with "
        "its cost per Darién crossing averted",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars"),
    yes: bool = YES,
) -> None:
    """Print the differences between two scenarios' results (B minus A)."""
    from migflow import compare_command

    compare_command.compare(
        a, b, out, seed, scale, draws, workers, scheduler, quiet, yes, split=split, years=years
    )


@app.command("list")
def list_() -> None:
    """List the shipped scenarios."""
    from migflow import scenario_commands

    scenario_commands.list_shipped()


# Commands that live with their feature: each module holds a ``commands`` Typer whose
# commands join this one. The command line sits above every layer and imports them; none of
# them imports it.
def _join_feature_commands() -> None:
    from migflow.app.commands import commands as app_commands
    from migflow.calibration.commands import commands as calibration_commands
    from migflow.sweeps.commands import commands as sweep_commands

    for feature in (calibration_commands, sweep_commands, app_commands):
        app.registered_commands.extend(feature.registered_commands)


_join_feature_commands()


def main() -> None:
    """Console-script entry point."""
    keep_freed_memory()
    try:
        app()
    except KeyboardInterrupt:
        # an interrupted command may not have closed what it opened: the interpreter's
        # teardown runs, so clusters and files close as usual
        err.print("interrupted; nothing was written")
        sys.exit(130)
    except SystemExit as done:
        _end_process(done.code)


def _end_process(code: int | str | None) -> None:
    """End the process at once with ``code``, as ``sys.exit`` would end it, without the
    interpreter's teardown: freeing every object and module one by one takes 0.5-0.6 s after
    a baseline run, a quarter of ``migflow run``'s time outside the model. Nothing is left to
    do by then: every command has closed its files and clusters (context managers) before
    returning, and the output streams are flushed here."""
    if isinstance(code, str):  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a closed pipe: nothing more to say
            pass
    os._exit(code or 0)
