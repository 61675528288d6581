"""The `kyso` command line. Subcommands live in `kyso/commands/` and are imported only when used.

DESIGN.md pitfall: importing pyHanko costs about 0.3 s, so `kyso --help` must not import it; every group is
loaded lazily by name.
"""

from __future__ import annotations

import importlib
import sys

import click

from kyso import __version__

# name -> "module:attribute" of a click command or group. Each area owns its module.
COMMANDS: dict[str, tuple[str, str]] = {
    "pki": ("kyso.commands.pki:pki", "Create the demo government PKI (root, issuing CA, TSA, OCSP)."),
    "ca": ("kyso.commands.ca:ca", "Issue and revoke certificates, publish CRLs, serve CRL/OCSP/TSA."),
    "token": ("kyso.commands.token:token", "List, initialise and enrol PKCS#11 tokens."),
    "bridge": ("kyso.commands.bridge:bridge", "Run the loopback token bridge for browsers and apps."),
    "sign": ("kyso.commands.sign:sign", "Sign PDFs (PAdES) or other files (CAdES) with a token."),
    "verify": ("kyso.commands.verify:verify", "Validate signed PDFs, .p7s files and .edxml packages into reports."),
    "edxml": ("kyso.commands.edxml:edxml", "Pack, sign and answer edXML packages of the national document axis."),
    "serve": ("kyso.commands.serve:serve", "Run the central service (development server)."),
    "report": ("kyso.commands.report:report", "Monthly signing-rate reports."),
    "ledger": ("kyso.commands.ledger:ledger", "Check the tamper-evident ledger."),
    "demo": ("kyso.commands.demo:demo", "Run the whole story on embedded defaults."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        target, help_text = COMMANDS[name]
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _not_yet_available(name, help_text)
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text from the table: listing commands must not import them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


def _not_yet_available(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise click.UsageError(f"'kyso {name}' is not available in this build")

    return unavailable


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kyso")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="KYSO_HOME",
    help="Where configuration, the database, the demo PKI and SoftHSM tokens live (env KYSO_HOME).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """kyso: digital signatures for Vietnamese government agencies (ký số)."""
    from kyso.config import Home

    ctx.obj = Home.locate(home)


# click >= 8.2 raises NoArgsIsHelpError (a UsageError) where older versions printed help and exited.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main() -> None:
    # click's usage errors exit 2; DESIGN.md reserves 64 and up for usage errors (sysexits EX_USAGE).
    try:
        rv = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted / Đã hủy.", err=True)
        sys.exit(130)
    except _NO_ARGS_IS_HELP as exc:  # a group called without a subcommand shows its help
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        exc.show()
        sys.exit(64)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code >= 64 else 1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
