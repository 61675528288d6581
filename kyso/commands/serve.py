"""`kyso serve`: the central service. Development server by default, gunicorn with `--production`.

`kyso serve add-user NAME --role R` and `kyso serve add-api-key NAME --scope S` create the first accounts;
`kyso serve lift-lockout --user NAME` lifts a login lockout
(the password is asked for, or read from an environment variable named by `--password-env`; never an
argument). For gunicorn without this command: `gunicorn 'kyso.commands.serve:wsgi_app()'` builds the
application from KYSO_HOME (run `kyso serve migrate` first).
"""

from __future__ import annotations

import os
import sys

import click


class ConfigurationProblem(click.ClickException):
    exit_code = 78  # sysexits EX_CONFIG, as the other commands


def _settings(home):
    from kyso.config import ConfigError
    from service.errors import ServiceConfigError
    from service.settings import ServiceSettings

    try:
        return ServiceSettings.from_home(home)
    except ServiceConfigError as exc:
        raise ConfigurationProblem(f"{home.config_file}: {exc.message_en}") from exc
    except ConfigError as exc:
        raise ConfigurationProblem(str(exc)) from exc


def _migrate(settings) -> None:
    from service.wiring import migrate_all

    migrate_all(settings)


def token_receipt_signer(module, label: str, *, pin_prompt):
    """(key, certificate, chain) of the agency certificate on token `label`: the service's own seal, which
    signs verification receipts. The key stays on the token."""
    from token_bridge.catalogue import CertificateCatalogue
    from token_bridge.keys import Pkcs11Key

    entries = [entry for entry in CertificateCatalogue([module]).scan()
               if entry.token_label == label and entry.kind == "agency"]
    if not entries:
        raise ConfigurationProblem(f"[service] receipt_token: no agency certificate on token {label!r}")
    entry = entries[0]
    session = module.session(label, pin_prompt=pin_prompt)
    key = Pkcs11Key(session, entry.key_id, public_key_info=entry.certificate.public_key)
    return key, entry.certificate, tuple(entry.chain)


def components_from_home(home, settings):
    """The service's libraries for a kyso home: the verifier's [verifier] settings, the home's demo PKI as
    trust root and intermediate (when there is one), its TSA, and its CA mounted at /pki when the CA token's
    PIN is available (KYSO_CA_PIN, or asked on a console)."""
    import json

    from kyso.enrolment import manifest_path
    from service.wiring import Components, read_certificates
    from verifier import ValidationSettings

    roots = [cert for path in settings.trust_roots for cert in read_certificates(path)]
    intermediates = [cert for path in settings.intermediates for cert in read_certificates(path)]
    tsa_url = settings.tsa_url
    authority = None
    manifest = manifest_path(home)
    if manifest.exists():
        roots += read_certificates(str(home.pki_dir / "root.crt"))
        intermediates += read_certificates(str(home.pki_dir / "gov.crt"))
        base_url = json.loads(manifest.read_text(encoding="utf-8"))["base_url"]
        tsa_url = tsa_url or f"{base_url}/pki/tsa"
        if settings.mount_pki and (os.environ.get("KYSO_CA_PIN") or sys.stdin.isatty()):
            from kyso.enrolment import open_authority

            authority = open_authority(home)
    receipt_signer = None
    if settings.receipt_token:
        from kyso.enrolment import load_module
        from token_bridge.pin import EnvironmentPinPrompt

        receipt_signer = token_receipt_signer(load_module(home), settings.receipt_token,
                                              pin_prompt=EnvironmentPinPrompt("KYSO_RECEIPT_PIN"))
    return Components.build(
        database_url=settings.database_url,
        trust_roots=tuple(roots),
        intermediates=tuple(intermediates),
        tsa_url=tsa_url,
        verifier_settings=ValidationSettings.from_config(home.section("verifier"), base=home.path),
        authority=authority,
        receipt_signer=receipt_signer,
    )


def wsgi_app():
    """The WSGI application for gunicorn, configured from KYSO_HOME (its kyso.toml and KYSO_* variables)."""
    from kyso.config import Home
    from service.app import create_app

    home = Home.locate()
    settings = _settings(home)
    return create_app(settings, components=components_from_home(home, settings))


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--production", is_flag=True, help="Run gunicorn (several worker processes) instead of the development server; the session cookie is then Secure (HTTPS only).")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64), help="gunicorn workers (--production).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, production: bool, workers: int) -> None:
    """Run the central service (migrates the database first)."""
    if ctx.invoked_subcommand is not None:
        return
    home = ctx.obj.ensure()
    settings = _settings(home)
    _migrate(settings)
    if production:
        if "secret_key" not in home.section("service"):
            raise click.UsageError(
                "--production needs [service] secret_key (or KYSO_SERVICE_SECRET_KEY) shared by all workers"
            )
        os.environ["KYSO_HOME"] = str(home.path)
        # Issue 9, item 12: in production the session cookie travels over HTTPS only (TLS at the proxy).
        os.environ["KYSO_SERVICE_COOKIE_SECURE"] = "true"
        command = [
            sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            # DOMAIN.md: real TSAs and OCSP responders can take seconds to minutes; gunicorn's default 30 s
            # worker timeout would kill a signature waiting for its timestamp.
            "--timeout", "300", "--access-logfile", "-", "--graceful-timeout", "20",
            "kyso.commands.serve:wsgi_app()",
        ]
        os.execv(sys.executable, command)
    from service.app import create_app

    app = create_app(settings, components=components_from_home(home, settings))
    click.echo(f"kyso service on http://{host}:{port}/ (database {settings.database_url.split('://')[0]})", err=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@serve.command("migrate")
@click.pass_obj
def migrate_command(home) -> None:
    """Create or upgrade the database tables of the service, the ledger and the CA."""
    _migrate(_settings(home.ensure()))
    click.echo("database migrated / đã cập nhật cơ sở dữ liệu")


def _secret(password_env: str | None) -> str:
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise click.UsageError(f"environment variable {password_env} is empty or not set")
        return value
    return click.prompt("Password / Mật khẩu", hide_input=True, confirmation_prompt=True)


@serve.command("add-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["administrator", "clerk", "official", "auditor"]))
@click.option("--display-name", default=None)
@click.option("--agency", default=None, help="Agency code of the user.")
@click.option("--official-id", type=click.IntRange(1), default=None,
              help="The roster official this person is (for their own stored signature image).")
@click.option("--password-env", default=None, help="Read the password from this environment variable.")
@click.pass_obj
def add_user(home, username: str, roles: tuple[str, ...], display_name, agency, official_id, password_env) -> None:
    """Create a user account of the web pages and the API."""
    from service.accounts import parse_roles
    from service.errors import ServiceError
    from service.wiring import add_user_account

    settings = _settings(home.ensure())
    _migrate(settings)
    try:
        add_user_account(settings, username, password=_secret(password_env), roles=parse_roles(list(roles)),
                         display_name=display_name, agency_code=agency, official_id=official_id)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message_vi} / {exc.message_en}") from exc
    click.echo(f"user {username} created ({', '.join(roles)})")


@serve.command("add-api-key")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["validate", "sign", "documents", "reports", "ledger", "roster", "audit"]))
@click.option("--agency", default=None)
@click.pass_obj
def add_api_key(home, name: str, scopes: tuple[str, ...], agency) -> None:
    """Create an API key for a system; the key is printed once and only its hash is kept."""
    from service.accounts import parse_scopes
    from service.errors import ServiceError
    from service.wiring import add_system_key

    settings = _settings(home.ensure())
    _migrate(settings)
    try:
        token = add_system_key(settings, name, scopes=parse_scopes(list(scopes)), agency_code=agency)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message_vi} / {exc.message_en}") from exc
    click.echo(token)


@serve.command("lift-lockout")
@click.option("--user", "username", default=None, help="The account whose login lockout to lift.")
@click.option("--address", default=None, help="The client address whose login lockout to lift.")
@click.pass_obj
def lift_lockout(home, username: str | None, address: str | None) -> None:
    """Lift the login throttling and lockout of an account and/or a client address (after repeated wrong
    passwords an account is locked until an administrator lifts it)."""
    from service.wiring import lift_login_lockout_of

    if not username and not address:
        raise click.UsageError("give --user and/or --address")
    settings = _settings(home.ensure())
    _migrate(settings)
    cleared = lift_login_lockout_of(settings, username=username, address=address)
    click.echo(f"lifted / đã mở khóa: {cleared} record(s)")
