"""Entry point of the ``yalu`` command.

Subcommands live in their own modules and are imported lazily, so that ``yalu --help`` and light
commands do not pay for numba compilation. Any :class:`yalu.errors.YaluError` (and click usage
errors) ends the program with exit code 2 and one line on stderr; ``-v`` shows the traceback.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
import warnings
from typing import Any

import click

from yalu import __version__
from yalu.errors import YaluError, YaluWarning

# name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {}


def register(name: str, target: str) -> None:
    COMMANDS[name] = target


class YaluCLIError(click.ClickException):
    """A :class:`YaluError` shown to the user: one line, exit code 2."""

    exit_code = 2


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except YaluError as exc:
            if (ctx.obj or {}).get("verbose"):
                traceback.print_exc()
            raise YaluCLIError(str(exc)) from exc
        finally:
            # outputs claimed by the command are released (and their lock files removed)
            atomic = sys.modules.get("yalu.io.atomic")
            if atomic is not None:
                atomic.release_claims()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            mod_name, attr = COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(mod_name), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="yalu")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug output.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """yalu: where mobile phones can connect, from terrain, ITM and link budgets."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    warnings.showwarning = _show_warning


def _verbose_requested(argv: list[str]) -> bool:
    for a in argv:
        if a == "--":
            break
        if a in ("-v", "--verbose"):
            return True
    return False


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so temporary outputs are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: Any) -> None:
    # once: a second signal while cleaning up must not interrupt the cleanup
    for s in _SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Terminated(signum)


_SIGNALS = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]


def _install_signal_handlers() -> None:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for s in _SIGNALS:
        if signal.getsignal(s) in (signal.SIG_DFL, None):
            signal.signal(s, _on_signal)


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    """yalu's warnings as one line on stderr; others as Python prints them."""
    if isinstance(category, type) and issubclass(category, YaluWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        _PY_SHOWWARNING(message, category, filename, lineno, file, line)


_PY_SHOWWARNING = warnings.showwarning


def _one_line(exc: BaseException) -> str:
    """A one-line message for environment errors that are not yalu's own."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return f"out of memory ({str(exc) or 'the request is too large for this machine'})"
    if isinstance(exc, RecursionError):
        return "input nested too deeply"
    return str(exc)


def _interrupted(exc: BaseException) -> None:
    if isinstance(exc, Terminated):
        name = signal.Signals(exc.signum).name
        click.echo(f"Terminated ({name}).", err=True)
        sys.exit(128 + exc.signum)
    click.echo("Interrupted.", err=True)
    sys.exit(130)


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; map yalu errors to exit code 2 with a one-line message."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose_requested(args)
    _install_signal_handlers()
    if not verbose:
        # GDAL prints errors of its worker threads (libtiff's "_tiffWriteProc: No space left")
        # straight to stderr; yalu reports them itself, in one line, after reading outputs back
        os.environ.setdefault("CPL_LOG", os.devnull)
    try:
        return cli.main(args=args, prog_name="yalu", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            _interrupted(exc.__cause__)
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else 2)
    except YaluError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except (OSError, MemoryError, RecursionError) as exc:
        # the environment (disk, memory, permissions), not a yalu bug: one line, -v for more
        if verbose:
            traceback.print_exc()
        click.echo(f"Error: {_one_line(exc)}", err=True)
        sys.exit(2)


# Register subcommands here, one line each: register("name", "yalu.cli.module:command").
register("itm", "yalu.cli.itm:itm")
register("terrain", "yalu.cli.terrain:terrain")
register("profile", "yalu.cli.profile:profile")
register("validate", "yalu.cli.run:validate")
register("run", "yalu.cli.run:run")
register("demo", "yalu.cli.run:demo")
register("coverage", "yalu.cli.coverage:coverage")
register("landcover", "yalu.cli.landcover:landcover")
register("calibrate", "yalu.cli.calibrate:calibrate")
register("p1812", "yalu.cli.p1812:p1812")
register("schema", "yalu.cli.schema:schema")
register("population", "yalu.cli.population:population")

if __name__ == "__main__":  # pragma: no cover
    main()
