"""``yalu schema``: the scenario file's JSON Schema (for editors) or its Markdown reference."""

from __future__ import annotations

import json

import click


@click.command("schema")
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the field reference (docs/scenario.md) instead of the JSON Schema.",
)
def schema(markdown: bool) -> None:
    """Print the JSON Schema of scenario files (every field with its unit and description).

    Save it and point your editor at it, e.g. the YAML language server:
    yalu schema > scenario.schema.json, then the first line of the scenario:
    # yaml-language-server: $schema=scenario.schema.json
    """
    from yalu.scenario.docs import scenario_json_schema, scenario_markdown

    if markdown:
        click.echo(scenario_markdown(), nl=False)
    else:
        click.echo(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
