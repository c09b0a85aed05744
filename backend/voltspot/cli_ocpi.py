"""``voltspot ocpi``: roaming partners from the command line."""

from __future__ import annotations

import click

from voltspot.config import load_settings


@click.group()
def ocpi() -> None:
    """OCPI 2.2.1 roaming (Voltspot as CPO)."""


@ocpi.group()
def partner() -> None:
    """Roaming partners (eMSPs, hubs)."""


@partner.command("add")
@click.option("--name", required=True, help="the partner's name on the owner page")
@click.option("--versions-url", default=None,
              help="the partner's OCPI versions URL: Voltspot registers with them")
@click.option("--token", "token_a", default=None,
              help="the token A the partner gave you (with --versions-url)")
def partner_add(name: str, versions_url: str | None, token_a: str | None) -> None:
    """Without --versions-url: make a token A for the partner to register with us, and
    print it with our versions URL. With --versions-url and --token: register with them."""
    from voltspot.db import Database
    from voltspot.services.errors import ServiceError
    from voltspot.services.roaming import partners
    from voltspot.services.roaming.identity import Identity

    if (versions_url is None) != (token_a is None):
        raise click.UsageError("--versions-url and --token go together")
    settings = load_settings()
    database = Database(settings.database_url)
    identity = Identity.from_settings(settings)
    try:
        if versions_url is None:
            created = partners.add_partner(database, identity, name)
            click.echo(f"Partner {created.name} created. Give them:")
            click.echo(f"Versions URL: {created.versions_url}")
            click.echo(f"Token A:      {created.token_a}")
            click.echo("They register by calling the versions URL with this token and "
                       "POSTing their credentials; the token is not shown again.")
            return
        registered = partners.register_with(database, identity, name, versions_url, token_a)
        click.echo(f"Registered with {registered.name} "
                   f"({registered.country_code}*{registered.party_id}, OCPI "
                   f"{registered.version}).")
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()


@partner.command("list")
def partner_list() -> None:
    """The partners and where each stands."""
    from voltspot.db import Database
    from voltspot.services.roaming import partners

    database = Database(load_settings().database_url)
    try:
        for view in partners.list_partners(database):
            party = f"{view.country_code}*{view.party_id}" if view.party_id else "-"
            click.echo(f"{view.partner_id:>4}  {view.name:<30} {party:<8} {view.state}"
                       + (f"  last error: {view.last_error}" if view.last_error else ""))
    finally:
        database.dispose()
