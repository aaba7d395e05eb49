"""`idp realname`: check one document number, and run the national-platform simulator."""

from __future__ import annotations

import json
import sys

import click

from realname.documents import REASONS, DocumentType, check


@click.group("realname", help="Real-name rules: document checks and the platform simulator.")
def realname_group() -> None:
    pass


@realname_group.command("check", help="Validate one document number. TYPE is one of: " +
                        ", ".join(t.value for t in DocumentType) +
                        ". Exit 0 when valid, 1 when not.")
@click.argument("doc_type", metavar="TYPE", type=click.Choice([t.value for t in DocumentType]))
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def realname_check(doc_type: str, number: str, as_json: bool) -> None:
    result = check(doc_type, number)
    found = result.to_dict()
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, default=str))
    elif result.valid:
        click.echo(f"valid {doc_type}: {result.normalised}")
        for key in ("region_code", "region_name", "birth_date", "sex"):
            if found.get(key):
                click.echo(f"  {key.replace('_', ' ')}: {found[key]}")
    else:
        explained = REASONS.get(result.reason or "")
        click.echo(f"invalid {doc_type}: {result.reason}" +
                   (f" ({explained.en})" if explained else ""))
    sys.exit(0 if result.valid else 1)


realname_check.commits = True  # type: ignore[attr-defined]  # reads nothing, writes nothing


@realname_group.command("simulator", help="Serve the national-platform simulator (synthetic "
                        "population, same signed protocol) until interrupted.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5002, show_default=True, type=int)
@click.option("--app-id", default="idp-dev", show_default=True)
@click.option("--app-secret", default="dev-platform-secret-0123456789abcdef", show_default=True)
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--people", default=20, show_default=True, type=int)
@click.option("--latency-ms", default=80, show_default=True, type=int)
@click.option("--population-file", type=click.Path(exists=True, dir_okay=False))
def realname_simulator(host: str, port: int, app_id: str, app_secret: str, seed: int,
                       people: int, latency_ms: int, population_file: str | None) -> None:
    from realname.platform.simulator import serve

    serve(host, port, app_id, app_secret, seed=seed, people=people, latency_ms=latency_ms,
          population_file=population_file)


realname_simulator.commits = True  # type: ignore[attr-defined]
