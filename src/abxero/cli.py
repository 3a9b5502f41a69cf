"""The ``abxero`` command line."""

from __future__ import annotations

import typer
from rich.console import Console

from abxero import __version__
from abxero.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Amazon Business purchases posted in Xero, exactly once.", no_args_is_help=True
)
db_app = typer.Typer(help="The database: schema and keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2) from problem


@app.command()
def version() -> None:
    """Print the abxero version."""
    console.print(f"abxero {__version__}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from abxero.store.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.resolved_database_url)
    console.print(f"schema is up to date at {_display_url(settings.resolved_database_url)}")


@db_app.command("rotate-keys")
def db_rotate_keys() -> None:
    """Re-encrypt every stored token under the first key of ABXERO_SECRET_KEY."""
    from abxero.store.crypto import TokenCipher
    from abxero.store.db import make_engine, session_factory, transaction
    from abxero.store.tokens import rotate_all

    settings = settings_or_exit()
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    cipher = TokenCipher.from_secret(secret, settings.key_file)
    engine = make_engine(settings.resolved_database_url)
    with transaction(session_factory(engine)) as session:
        count = rotate_all(session, cipher)
    engine.dispose()
    console.print(f"re-encrypted {count} token sets under the newest key")


def _display_url(url: str) -> str:
    """``url`` without a password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # pragma: no cover
    app()
