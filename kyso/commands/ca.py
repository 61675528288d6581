"""`kyso ca issue|revoke|crl|serve`: run the certificate authority of this home.

The CA token's PIN comes from KYSO_CA_PIN or is asked once (dialog or terminal).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click


@contextlib.contextmanager
def cli_errors():
    """Our packages' errors as click errors: usage problems exit 64, refusals exit 1 (Vietnamese / English)."""
    from ca.errors import CaError
    from kyso.config import ConfigError
    from policies.profiles import ProfileError
    from ledger.errors import LedgerError
    from token_bridge.errors import TokenBridgeError

    try:
        yield
    except (CaError, ProfileError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from exc
    except TokenBridgeError as exc:
        raise click.ClickException(f"{exc.message_vi} / {exc.message_en}") from exc
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _authority(home):
    from kyso.enrolment import open_authority

    return open_authority(home)


def parse_serial(text: str) -> int:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return int(cleaned, 16)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a hexadecimal serial number") from None


@click.group()
def ca() -> None:
    """Issue and revoke certificates, publish CRLs, serve CRL/OCSP/TSA."""


@ca.command("issue")
@click.argument("csr_file", type=click.File("rb"))
@click.option("--profile", required=True, type=click.Choice(["personal", "agency", "tsa", "ocsp", "issuing-ca"]),
              help="The certificate profile (policies/data/certificate-profiles.toml).")
@click.option("--issuer", default="gov", show_default=True, help="The issuing CA.")
@click.option("--days", type=click.IntRange(1, None), help="Validity in days (default: the profile's maximum).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the certificate (PEM) here.")
@click.option("--chain/--no-chain", default=False, help="Append the CA chain to the PEM output.")
@click.option("--agency", "agency_code", help="Record the holder on the roster under this agency code "
              "(personal and agency certificates).")
@click.pass_obj
def issue(home, csr_file, profile: str, issuer: str, days: int | None, out: Path | None, chain: bool,
          agency_code: str | None) -> None:
    """Issue a certificate from a PKCS#10 CSR (DER or PEM; '-' reads standard input)."""
    from asn1crypto import pem

    from kyso.enrolment import check_roster_agency, record_on_roster

    if agency_code and profile not in ("personal", "agency"):
        raise click.UsageError("--agency applies to personal and agency certificates only")
    with cli_errors():
        if agency_code:
            check_roster_agency(home, agency_code)
        authority = _authority(home)
        issued = authority.issue_from_csr(csr_file.read(), issuer=issuer, profile=profile, validity_days=days)
        if agency_code:
            record_on_roster(home, issued, agency_code=agency_code, profile=profile)
    output = pem.armor("CERTIFICATE", issued.certificate.dump())
    if chain:
        output += b"".join(pem.armor("CERTIFICATE", c.dump()) for c in issued.chain)
    if out:
        out.write_bytes(output)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    click.echo(f"Đã cấp / issued {issued.serial_number:X}: {issued.certificate.subject.human_friendly} "
               f"({issued.certificate.not_valid_before:%Y-%m-%d} - {issued.certificate.not_valid_after:%Y-%m-%d})",
               err=True)


@ca.command("renew")
@click.argument("serial")
@click.option("--csr", "csr_file", type=click.File("rb"), help="A CSR with a new key (same subject).")
@click.option("--days", type=click.IntRange(1, None), help="Validity from now in days (default: 3 more years).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the certificate (PEM) here.")
@click.pass_obj
def renew(home, serial: str, csr_file, days: int | None, out: Path | None) -> None:
    """Renew a valid certificate: same subject, validity extended by at most 3 years (Decree 68/2024)."""
    from asn1crypto import pem

    serial_number = parse_serial(serial)
    with cli_errors():
        issued = _authority(home).renew(serial_number, csr=csr_file.read() if csr_file else None,
                                        validity_days=days)
    output = pem.armor("CERTIFICATE", issued.certificate.dump())
    if out:
        out.write_bytes(output)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    click.echo(f"Đã gia hạn / renewed {serial_number:X} as {issued.serial_number:X} "
               f"(to {issued.certificate.not_valid_after:%Y-%m-%d})", err=True)


@ca.command("list")
@click.option("--issuer", default="gov", show_default=True)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def list_certificates(home, issuer: str, output: str) -> None:
    """The certificates issued by a CA, with their status (reads the database only: no PIN)."""
    import json

    from ca.store import Store

    with cli_errors():
        store = Store.open(home.database_url())
        try:
            records = store.certificates_of(issuer)
        finally:
            store.close()
    rows = [{
        "serial": format(r.serial_number, "X"), "profile": r.profile, "subject": r.subject,
        "not_before": r.not_before.isoformat(), "not_after": r.not_after.isoformat(),
        "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        "revocation_reason": r.revocation_reason.camel if r.revocation_reason else None,
    } for r in records]
    if output == "json":
        click.echo(json.dumps({"issuer": issuer, "certificates": rows}, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = f"revoked {row['revoked_at']} ({row['revocation_reason']})" if row["revoked_at"] else "valid"
        click.echo(f"{row['serial']:32} {row['profile']:9} to {row['not_after'][:10]}  {state:12}  {row['subject']}")


@ca.command("revoke")
@click.argument("serial")
@click.option("--reason", default="unspecified", show_default=True,
              help="RFC 5280 reason: keyCompromise, caCompromise, affiliationChanged, superseded, "
                   "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise, unspecified.")
@click.pass_obj
def revoke(home, serial: str, reason: str) -> None:
    """Revoke a certificate by its serial number (hex). Revoking twice changes nothing."""
    from ca.revocation import RevocationReason

    from kyso.enrolment import revoke_on_roster

    serial_number = parse_serial(serial)
    with cli_errors():
        chosen = RevocationReason.parse(reason)
        revocation = _authority(home).revoke(serial_number, reason=chosen)
        record = revocation.record
        on_roster = revoke_on_roster(home, serial_number, revoked_at=record.revoked_at,
                                     reason=record.revocation_reason.camel)
    if revocation.newly_revoked:
        click.echo(f"Đã thu hồi / revoked {serial_number:X} at {record.revoked_at:%Y-%m-%dT%H:%M:%SZ} "
                   f"({record.revocation_reason.camel})")
    else:
        click.echo(f"Đã thu hồi từ trước / already revoked {serial_number:X} at "
                   f"{record.revoked_at:%Y-%m-%dT%H:%M:%SZ} ({record.revocation_reason.camel}); nothing changed")
    if on_roster:
        click.echo("Danh bạ đã cập nhật / roster updated")


@ca.command("crl")
@click.option("--issuer", "issuers", multiple=True, help="CA name (repeatable; default: every CA).")
@click.pass_obj
def crl(home, issuers: tuple[str, ...]) -> None:
    """Publish a new CRL (next CRL number) and write it to KYSO_HOME/pki/<ca>.crl."""
    with cli_errors():
        authority = _authority(home)
        for name in issuers or sorted(authority.issuers):
            published = authority.publish_crl(name)
            path = home.pki_dir / f"{name}.crl"
            path.write_bytes(published.dump())
            tbs = published["tbs_cert_list"]
            count = len(tbs["revoked_certificates"]) if tbs["revoked_certificates"].native else 0
            click.echo(f"{name}: CRL #{published.crl_number_value.native}, {count} revoked, next update "
                       f"{tbs['next_update'].native:%Y-%m-%dT%H:%M:%SZ} -> {path}")


@ca.command("serve")
@click.option("--host", help="Address to listen on (default: the host of the PKI base URL).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: the port of the PKI base URL).")
@click.pass_obj
def serve(home, host: str | None, port: int | None) -> None:
    """Serve /pki/<ca>.crt, /pki/<ca>.crl, OCSP at /pki/ocsp and RFC 3161 at /pki/tsa."""
    from werkzeug.serving import run_simple

    from service.pki import create_pki_app

    with cli_errors():
        authority = _authority(home)
        # Log in before serving, so a wrong PIN fails here and not on the first request.
        for issuer in authority.issuers.values():
            issuer.key.public_key_info()
    base = urlsplit(authority.endpoints.base_url)
    host = host or base.hostname or "127.0.0.1"
    port = port or base.port or 80
    click.echo(f"PKI: http://{host}:{port}/pki/ (Ctrl+C to stop)", err=True)
    run_simple(host, port, create_pki_app(authority), threaded=True, use_reloader=False)

