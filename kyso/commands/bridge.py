"""`kyso bridge serve|tokens|certificates|audit`: the token bridge on the official's computer.

`serve` listens on 127.0.0.1 and [::1] only ([bridge] port, default 8988) for the configured origins.
Every signature is shown for consent (desktop dialog or console) and the PIN is asked by the token's
login prompt. For unattended use (the demo, scripts) `--pin-env VAR` reads the PIN from an environment
variable and `--unsafe-auto-consent` signs without asking: never on an official's computer.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click


@contextlib.contextmanager
def _errors():
    from kyso.config import ConfigError
    from token_bridge.errors import ConfigurationError, TokenBridgeError

    try:
        yield
    except ConfigurationError as error:  # a usage error: exit status 64 (DESIGN.md)
        raise click.UsageError(f"{error.message_vi}\n{error}") from error
    except TokenBridgeError as error:
        raise click.ClickException(f"{error.message_vi}\n{error}") from error
    except ConfigError as error:
        raise click.UsageError(str(error)) from error


def _settings(home, **overrides):
    from kyso.vgca.settings import split_bridge_table
    from token_bridge.settings import BridgeSettings

    table, _ = split_bridge_table(home.section("bridge"))  # the vgca_* keys are the plugin endpoint's
    settings = BridgeSettings.from_config(table)
    return settings.with_overrides(**overrides)


def _plugin_settings(home):
    from kyso.vgca.settings import PluginSettings, PluginSettingsError, split_bridge_table

    _, table = split_bridge_table(home.section("bridge"))
    try:
        return PluginSettings.from_config(table)
    except PluginSettingsError as error:
        raise click.UsageError(str(error)) from error


def _modules(home, settings):
    """Load the configured PKCS#11 modules; SoftHSM points at this home's token directory first."""
    from token_bridge.module import DEFAULT_MODULE_PATH, Pkcs11Module
    from token_bridge.softhsm import SoftHsmDirectory

    modules = []
    for path in settings.modules:
        if Path(path).resolve() == Path(DEFAULT_MODULE_PATH).resolve():
            import os

            if not os.environ.get("SOFTHSM2_CONF"):
                home.ensure()
                SoftHsmDirectory.create(home.path, token_dir=home.token_dir).activate()
        modules.append(Pkcs11Module.load(path))
    return modules


@click.group()
def bridge() -> None:
    """Run the loopback token bridge for browsers and apps."""


@bridge.command("serve")
@click.option("--port", type=int, help="Loopback port (default: [bridge] port, else 8988).")
@click.option("--host", "hosts", multiple=True, help="Loopback address to listen on (repeatable; default both "
              "127.0.0.1 and ::1). Anything but a loopback address is refused.")
@click.option("--allow-origin", "origins", multiple=True,
              help="Web origin allowed to call the bridge, e.g. https://vanban.hanoi.gov.vn (repeatable; "
              "added to [bridge] allowed_origins).")
@click.option("--module", "modules", multiple=True, help="PKCS#11 library path (repeatable; default SoftHSM).")
@click.option("--audit-log", type=click.Path(dir_okay=False), help="Audit log file (JSON lines; default "
              "KYSO_HOME/bridge-audit.jsonl).")
@click.option("--pin-prompt", type=click.Choice(["auto", "desktop", "console"]), help="How to ask for PINs.")
@click.option("--pin-env", metavar="VAR", help="Read the PIN from environment variable VAR (unattended use).")
@click.option("--consent", type=click.Choice(["auto", "desktop", "console"]), help="How to ask for consent.")
@click.option("--unsafe-auto-consent", is_flag=True,
              help="UNSAFE: sign every request without asking (demo and benchmarks only).")
@click.option("--vgca/--no-vgca", "vgca", default=None,
              help="Also answer the signing plugin's protocol at wss://127.0.0.1:8987/<Endpoint> (default: "
              "[bridge] vgca).")
@click.option("--vgca-port", type=int, help="Port of the plugin endpoint (default: [bridge] vgca_port, else 8987).")
@click.pass_obj
def serve(home, port, hosts, origins, modules, audit_log, pin_prompt, pin_env, consent, unsafe_auto_consent,
          vgca, vgca_port):
    """Serve GET /v1/tokens, GET /v1/certificates and POST /v1/signatures on loopback.

    With --vgca also the plugin protocol of existing document systems (SignApproved, SignIssued, ...) over
    TLS on 127.0.0.1:8987, with a loopback CA in KYSO_HOME/bridge/ (trust it with `kyso bridge trust`)."""
    from token_bridge.audit import AuditLog
    from token_bridge.consent import (
        ConsoleConsent,
        DesktopConsent,
        UnsafeAutoConsent,
        choose_consent_prompt,
    )
    from token_bridge.http import BridgeServer, create_app
    from token_bridge.pin import ConsolePinPrompt, DesktopPinPrompt, EnvironmentPinPrompt, choose_pin_prompt
    from token_bridge.settings import default_audit_log
    from token_bridge.signing import Bridge

    with _errors():
        base = _settings(home)
        settings = base.with_overrides(
            port=port,
            hosts=list(hosts) or None,
            allowed_origins=sorted(set(base.allowed_origins) | set(origins)),
            modules=list(modules) or None,
            audit_log=audit_log,
            pin_prompt=pin_prompt,
            consent=consent,
        )
        if pin_env:
            pins = EnvironmentPinPrompt(pin_env)
        else:
            pins = {"desktop": DesktopPinPrompt, "console": ConsolePinPrompt}.get(settings.pin_prompt, choose_pin_prompt)()
        if unsafe_auto_consent:
            consents = UnsafeAutoConsent()
        else:
            consents = {"desktop": DesktopConsent, "console": ConsoleConsent}.get(
                settings.consent, choose_consent_prompt
            )()
        chain = []
        for path in settings.chain_certificates:
            chain.extend(_load_certificates(Path(path)))
        audit = AuditLog(settings.audit_log or default_audit_log(home.path))
        plugin = _plugin_settings(home)
        with_plugin = plugin.enabled if vgca is None else vgca
        if with_plugin:
            from kyso.vgca.plugin import BatchConsent

            consents = BatchConsent(consents)  # SignFiles asks once for its whole list
        core = Bridge(_modules(home, settings), pin_prompt=pins, consent=consents, audit=audit, extra_chain=chain)
        server = BridgeServer(create_app(core, settings), settings)
        plugin_server = None
        if with_plugin:
            from kyso.vgca.compose import build_plugin_server
            from kyso.vgca.settings import PluginSettingsError, reporter_for

            try:
                reporter = reporter_for(home, plugin)
            except PluginSettingsError as error:
                raise click.UsageError(str(error)) from error
            try:
                plugin_server = build_plugin_server(home, core, plugin, allowed_origins=settings.allowed_origins,
                                                    port=vgca_port, reporter=reporter)
            except OSError as error:
                raise click.ClickException(
                    f"không mở được cổng {vgca_port or plugin.port} cho plugin / cannot listen on port "
                    f"{vgca_port or plugin.port} for the plugin endpoint: {error.strerror or error}") from error
    addresses = ", ".join(server.addresses)
    click.echo(f"kyso bridge: đang lắng nghe / listening on {addresses}", err=True)
    click.echo(f"allowed origins: {', '.join(sorted(settings.allowed_origins)) or '(none: local applications only)'}",
               err=True)
    if unsafe_auto_consent:
        click.echo("WARNING / CẢNH BÁO: --unsafe-auto-consent: every request is signed without asking.", err=True)
    for host, reason in server.skipped:
        click.echo(f"not listening on {host}: {reason}", err=True)
    server.start()
    if plugin_server is not None:
        plugin_server.start()
        if plugin_server.endpoint.report is not None:
            plugin_server.endpoint.report.flush()  # what an earlier run could not deliver
            plugin_server.endpoint.report.start()
        click.echo(f"kyso bridge: plugin endpoint / cổng plugin {plugin_server.url}/<Endpoint> "
                   f"(CA: {home.path}/bridge/loopback-ca.pem)", err=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if plugin_server is not None:
            plugin_server.stop()
            if plugin_server.endpoint.report is not None:
                plugin_server.endpoint.report.stop()
        server.stop()


def _load_certificates(path: Path):
    from asn1crypto import pem, x509

    data = path.read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


@bridge.command("tokens")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def tokens(home, fmt):
    """List the tokens present in the configured modules, with their PIN state."""
    with _errors():
        settings = _settings(home)
        found = [t for m in _modules(home, settings) for t in m.tokens()]
    if fmt == "json":
        click.echo(json.dumps({"tokens": [t.to_json() for t in found]}, ensure_ascii=False, indent=2))
        return
    for t in found:
        click.echo(f"{t.label}\tserial {t.serial}\t{t.manufacturer} / {t.model}\tPIN: {t.pin_state.value}")


@bridge.command("certificates")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def certificates(home, fmt):
    """List the signing certificates on the present tokens (no PIN needed) with their ids."""
    from token_bridge.catalogue import CertificateCatalogue

    with _errors():
        settings = _settings(home)
        entries = CertificateCatalogue(_modules(home, settings)).scan()
    if fmt == "json":
        click.echo(json.dumps({"certificates": [e.to_json() for e in entries]}, ensure_ascii=False, indent=2))
        return
    for e in entries:
        click.echo(f"{e.certificate_id}\t{e.kind}\t{e.token_label}\t{e.certificate.subject.human_friendly}")


@bridge.command("audit")
@click.option("--audit-log", type=click.Path(dir_okay=False), help="Audit log file (default from [bridge]).")
@click.pass_obj
def audit(home, audit_log):
    """Print the audit log: who asked for which signature, from where, and the outcome."""
    from token_bridge.audit import AuditLog
    from token_bridge.settings import default_audit_log

    with _errors():
        settings = _settings(home)
        log = AuditLog(audit_log or settings.audit_log or default_audit_log(home.path))
        records = log.records()
    for r in records:
        click.echo(f"{r.time}\t{r.outcome}\t{r.origin}\t{r.token_label}\t{r.signer}\t{r.description}"
                   + (f"\t{r.error_code}" if r.error_code else ""))


@bridge.command("trust")
@click.option("--nssdb", type=click.Path(file_okay=False), help="NSS database folder (default: ~/.pki/nssdb, "
              "the one Chromium and Firefox on Linux read).")
@click.pass_obj
def trust(home, nssdb):
    """Install the plugin endpoint's loopback CA into the user's NSS database (Chromium/Firefox on Linux)."""
    import shutil
    import subprocess

    from kyso.vgca.compose import bridge_folder
    from kyso.vgca.loopback_tls import ensure_loopback_identity

    identity = ensure_loopback_identity(bridge_folder(home))
    folder = Path(nssdb) if nssdb else Path.home() / ".pki" / "nssdb"
    click.echo(f"CA: {identity.ca_certificate}")
    if shutil.which("certutil") is None:
        raise click.ClickException("thiếu certutil (gói libnss3-tools) / certutil is missing (libnss3-tools)")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "cert9.db").exists():
        subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True,
                       capture_output=True)
    done = subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "kyso loopback CA", "-t", "C,,",
                           "-i", str(identity.ca_certificate)], capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"certutil: {done.stderr.strip()}")
    click.echo(f"Đã tin cậy CA trong / trusted in sql:{folder} (restart the browser)")
    click.echo("Windows: certutil -addstore -user Root loopback-ca.pem  |  "
               "macOS: security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "
               "loopback-ca.pem")
