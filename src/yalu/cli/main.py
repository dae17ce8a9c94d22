"""Entry point of the ``yalu`` command.

Subcommands live in their own modules and are imported lazily, so that ``yalu --help`` and light
commands do not pay for numba compilation. Any :class:`yalu.errors.YaluError` (and click usage
errors) ends the program with exit code 2 and one line on stderr; ``-v`` shows the traceback.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from yalu import __version__
from yalu.errors import YaluError

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


def _verbose_requested(argv: list[str]) -> bool:
    for a in argv:
        if a == "--":
            break
        if a in ("-v", "--verbose"):
            return True
    return False


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; map yalu errors to exit code 2 with a one-line message."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbose_requested(args)
    try:
        return cli.main(args=args, prog_name="yalu", standalone_mode=False)
    except click.exceptions.Abort:
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
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


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
