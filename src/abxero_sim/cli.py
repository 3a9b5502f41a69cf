"""``abxero demo`` and ``abxero simulators``: commands this distribution adds to the product CLI.

``sim/pyproject.toml`` registers :func:`register` in the ``abxero.cli`` entry-point group; the
product's command line calls it at start-up (see ``abxero.cli.load_extra_commands``). The
product never imports this package by name in code: the demo and the simulators are not part of
what it ships.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from abxero.settings import Settings

console = Console()


def settings_or_exit() -> Settings:
    # imported here, not at the top: abxero.cli imports this module while it loads
    from abxero.cli import settings_or_exit as product_settings

    return product_settings()


def simulators(
    host: str = typer.Option("127.0.0.1", help="Loopback address to listen on."),
    amazon_port: int = typer.Option(8410, help="Port of the Amazon Business simulator."),
    xero_port: int = typer.Option(8420, help="Port of the Xero simulator."),
    seed: int = typer.Option(7, help="Seed of the simulated businesses and organisations."),
) -> None:
    """Serve the Xero and Amazon Business simulators on loopback until interrupted."""
    import json
    import time

    from abxero_sim.demo import simulators as serving

    with serving(seed, host, xero_port, amazon_port, with_specs=specs_present()) as world:
        # Lines meant to be copied go out with print(), not rich: rich wraps at the terminal
        # width (80 columns when stdout is not a terminal) and would cut a long value in two.
        print(f"Xero simulator:            {world.xero_url}")
        print(f"Amazon Business simulator: {world.amazon_url}")
        print(json.dumps({"amazon_url": world.amazon_url, "xero_url": world.xero_url}))
        print("Point abxero at them with:")
        for line in simulator_environment(world.xero_url, world.amazon_url):
            print(f"  export {line}")
        print("Press Ctrl+C to stop.", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopped")


def simulator_environment(xero_url: str, amazon_url: str) -> list[str]:
    """The ABXERO_* variables that point abxero at running simulators."""
    from abxero_sim import amazon as amazon_sim
    from abxero_sim.demo import SIM_XERO_CLIENT

    return [
        f"ABXERO_XERO_LOGIN_URL={xero_url}",
        f"ABXERO_XERO_IDENTITY_URL={xero_url}",
        f"ABXERO_XERO_API_URL={xero_url}",
        f"ABXERO_XERO_CLIENT_ID={SIM_XERO_CLIENT[0]}",
        f"ABXERO_XERO_CLIENT_SECRET={SIM_XERO_CLIENT[1]}",
        f"ABXERO_AMAZON_CONSENT_URL_US={amazon_url}",
        f"ABXERO_AMAZON_CONSENT_URL_UK={amazon_url}",
        f"ABXERO_AMAZON_TOKEN_URL={amazon_url}/auth/o2/token",
        f"ABXERO_AMAZON_API_URL_NA={amazon_url}",
        f"ABXERO_AMAZON_API_URL_EU={amazon_url}",
        f"ABXERO_AMAZON_APPLICATION_ID={amazon_sim.DEFAULT_APPLICATION_ID}",
        f"ABXERO_AMAZON_CLIENT_ID={amazon_sim.DEFAULT_CLIENT_ID}",
        f"ABXERO_AMAZON_CLIENT_SECRET={amazon_sim.DEFAULT_CLIENT_SECRET}",
    ]


def specs_present() -> bool:
    """Whether the published API descriptions are where ``abxero_sim.specs`` looks.

    When they are not, the command says so on stderr (path and variable) and the simulators
    run without OpenAPI validation and without Amazon's sandbox samples."""
    from abxero_sim.specs import SpecsMissing, amazon_models_dir, xero_spec_path

    try:
        xero_spec_path()
        amazon_models_dir()
    except SpecsMissing as missing:
        typer.echo(f"{missing}; the simulators run without checking against it.", err=True)
        return False
    return True


def demo(
    headless: bool = typer.Option(False, help="Run the whole journey without a browser."),
    seed: int = typer.Option(7, help="Seed of the simulated world."),
    port: int = typer.Option(8000, help="Port of the web app."),
) -> None:
    """Start the simulators and the app with a worker: walk the setup in a browser."""
    if headless:
        run_headless_demo(seed)
        return
    run_web_demo(seed, port)


def run_web_demo(seed: int, port: int) -> None:
    import time

    from abxero.web.server import run_with_worker
    from abxero_sim.demo import fresh_data_dir, settings_for
    from abxero_sim.demo import simulators as serving

    base = settings_or_exit()
    with serving(seed, with_specs=specs_present()) as world:
        public = f"http://localhost:{port}"
        settings = settings_for(
            world,
            fresh_data_dir(base.data_dir / "demo"),
            public_url=public,
            xero_redirect_uri=f"{public}/auth/xero/callback",
            amazon_redirect_uri=f"{public}/amazon/callback",
        )
        with run_with_worker(settings, "127.0.0.1", port):
            console.print(f"abxero is running: open [bold]{public}[/bold] in a browser.")
            console.print(
                "Sign in with Xero (simulated), pick Demo Company (US) or (UK), connect Amazon "
                "Business (Acme Robotics for the US, Harbour Analytics for the UK), import, map, "
                "review and finish. Press Ctrl+C to stop."
            )
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                console.print("stopped")


def run_headless_demo(seed: int) -> None:
    import shlex

    from abxero.commands import demo_json
    from abxero_sim.demo import demo_data_dir, run_headless

    settings = settings_or_exit()
    console.print("Starting the simulators, signing in with Xero, connecting Amazon Business…")
    summaries = run_headless(settings, seed=seed, with_specs=specs_present())
    print(
        "The demo's ledger stays in its own folder; inspect it with:\n"
        f"  ABXERO_DATA_DIR={shlex.quote(str(demo_data_dir(settings)))} abxero status"
    )
    for item in summaries:
        verdict = "[green]match[/green]" if item["totals_match"] else "[red]DIFFER[/red]"
        console.print(
            f"{item['organisation']} ({item['region']}): {item['fetched']} Amazon transactions, "
            f"{item['documents_posted']} Xero documents posted, {item['held']} held, "
            f"{item['quarantined']} quarantined, {item['duplicates']} duplicates; "
            f"Amazon sent {item['amazon_total']} {item['currency']} = posted "
            f"{item['posted_total']} + held {item['held_total']} + quarantined "
            f"{item['quarantined_total']} ({item['unaccounted']} unreadable or unfinished); "
            f"Xero holds {item['xero_total']} "
            f"{item['currency']}: {verdict}"
        )
    print(demo_json(summaries))


def register(app: typer.Typer) -> None:
    """Add ``simulators`` and ``demo`` to the ``abxero`` command line (entry point)."""
    app.command()(simulators)
    app.command()(demo)


app = typer.Typer(help="The abxero demo world and simulators.", no_args_is_help=True)
register(app)
