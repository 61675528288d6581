"""`kyso edxml pack|status`, and the .edxml branch of `kyso verify` (QCVN 102:2016/BTTTT packages).

    kyso edxml pack --document ID --pdf SIGNED.pdf --to CODE [--to CODE]... --token LABEL [--pin-env VAR] -o X.edxml
    kyso edxml status PACKAGE.edxml --agency CODE --token LABEL [--pin-env VAR] [--code 03] -o STATUS.edxml

Exit status: 0 done, 1 the package did not verify (status: the answer is then 02 refused), 64 usage error,
65 the input was refused (data error), 78 configuration error.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

EXIT_USAGE, EXIT_DATA, EXIT_CONFIG = 64, 65, 78


class _UsageError(click.UsageError):
    exit_code = EXIT_USAGE


class _PackageAwareVerifier:
    """`kyso verify`'s verifier: .edxml files go to edxml (with the same Verifier for the PDFs inside)."""

    def __init__(self, verifier, settings):
        self._verifier = verifier
        self._settings = settings

    def verify_file(self, path):
        path = Path(path)
        if path.suffix.lower() != ".edxml":
            return self._verifier.verify_file(path)
        from edxml import verify_package
        from verifier import FileReport, Message
        from verifier.report import Severity

        try:
            size = path.stat().st_size
            if size > self._settings.max_bytes:
                return _too_large(str(path), size, self._settings.max_bytes)  # before reading it into memory
            data = path.read_bytes()
        except OSError as exc:
            return FileReport.format_failure(str(path), Message(
                "format.unreadable-file", f"the file cannot be read: {exc.strerror or exc}",
                f"không đọc được tệp: {exc.strerror or exc}", Severity.ERROR))
        return verify_package(data, verifier=self._verifier, settings=self._settings, path=str(path))


def _too_large(path: str, size: int, limit: int):
    from edxml.report import PackageReport
    from verifier import Indication, Message, SubIndication
    from verifier.report import Severity

    return PackageReport(path, Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, None, None, (), (Message(
        "format.too-large", f"the package is {size} bytes, over the limit of {limit} bytes",
        f"gói tin có {size} byte, vượt giới hạn {limit} byte", Severity.ERROR),))


def _settings(home):
    from edxml import EdxmlSettings, SettingsError
    from kyso.config import ConfigError

    try:
        return EdxmlSettings.from_config(home.section("edxml"))
    except (ConfigError, SettingsError) as exc:
        click.echo(f"kyso: configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def package_verifier(verifier, home) -> _PackageAwareVerifier:
    return _PackageAwareVerifier(verifier, _settings(home))


def render_report(report, *, lang: str) -> str:
    from edxml import PackageReport, render_package_text
    from verifier import render_text

    if isinstance(report, PackageReport):
        return render_package_text(report, lang=lang)
    return render_text(report, lang=lang)


def _verifier_for(home, offline: bool):
    """A Verifier trusting the home's demo PKI and the configured anchors (as `kyso verify` does)."""
    from dataclasses import replace

    from kyso.commands.verify import _demo_roots
    from verifier import SettingsError, ValidationSettings, Verifier
    from kyso.config import ConfigError

    try:
        settings = ValidationSettings.from_config(home.section("verifier"), base=home.path)
    except (ConfigError, SettingsError) as exc:
        click.echo(f"kyso: configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    roots, intermediates = _demo_roots(home.pki_dir)
    return Verifier(replace(settings.with_trust(*roots),
                            intermediates=settings.intermediates + tuple(c for _, c in intermediates),
                            offline=settings.offline or offline))


def _seal_key(home, token_label, certificate_id, pin_env):
    from kyso.commands.sign import _token_key
    from token_bridge.errors import TokenBridgeError

    try:
        return _token_key(home, home.section("pkcs11"), token_label, certificate_id, pin_env)
    except TokenBridgeError as exc:
        raise click.ClickException(f"{exc.message_vi}\n{exc}") from exc


def _fail(exc) -> None:
    click.echo(f"kyso edxml: {exc.vi}\n{exc.en}", err=True)
    sys.exit(EXIT_DATA)


@click.group("edxml")
def edxml() -> None:
    """edXML packages of the national document exchange axis (QCVN 102:2016/BTTTT).

    `kyso verify X.edxml` verifies a received package (its XML signature as an entry of kind
    `package`, each attached PDF as a nested report)."""


_TOKEN_OPTIONS = [
    click.option("--token", "token_label", required=True, help="Label of the token holding the agency seal key."),
    click.option("--certificate-id", help="Which certificate of the token (SHA-256 prefix), when it has several."),
    click.option("--pin-env", metavar="VAR", help="Read the PIN from environment variable VAR (never a PIN here)."),
]


def _token_options(function):
    for option in reversed(_TOKEN_OPTIONS):
        function = option(function)
    return function


@edxml.command("pack")
@click.option("--document", "document_id", type=int, required=True, help="The issued outgoing document (ledger id).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Its signed PDF (the file linked to the document in the ledger).")
@click.option("--to", "recipients", multiple=True, required=True, metavar="CODE",
              help="Recipient agency code of the roster (either form); may be repeated.")
@click.option("--competence", default="", help="SignerInfo competence, e.g. 'TM. ỦY BAN NHÂN DÂN'.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--offline", is_flag=True, help="Check the PDF with its own validation data only.")
@_token_options
@click.pass_obj
def pack_command(home, document_id, pdf_path, recipients, competence, output, offline, token_label,
                 certificate_id, pin_env):
    """Make and sign the edXML package of an issued document with the agency's seal key (on its token).

    Codes, number, date and subject come from the ledger's registration, the signer from the PDF's
    personal signature; the PDF must verify TOTAL_PASSED. Exit 0 written, 65 refused, 64 usage error."""
    from edxml import EdxmlError, pack
    from ledger import open_store
    from ledger.errors import LedgerError
    from service.edxml_exchange import outgoing_package

    try:
        pdf = pdf_path.read_bytes()
    except OSError as exc:
        raise _UsageError(f"--pdf {pdf_path}: {exc.strerror or exc}") from None
    store = open_store(home.database_url())
    try:
        with _verifier_for(home, offline) as verifier:
            package = outgoing_package(store, document_id=document_id, pdf=pdf, recipients=list(recipients),
                                       verifier=verifier, filename=pdf_path.name, competence=competence)
        key, certificate, chain = _seal_key(home, token_label, certificate_id, pin_env)
        xml = pack(package, key=key, certificate=certificate, chain=chain)
    except (EdxmlError, LedgerError) as exc:
        _fail(exc)
    finally:
        store.dispose()
    output.write_bytes(xml)
    click.echo(f"kyso edxml: {output} ({len(xml)} byte) - {package.header.document_id} -> "
               f"{', '.join(r.code for r in package.header.recipients)}")


@edxml.command("status")
@click.argument("package_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--agency", "agency_code", required=True, help="The receiving agency (roster code) that answers.")
@click.option("--code", "status_code", type=click.Choice(["01", "03", "04", "05", "06", "13", "15", "16"]),
              help="Status for a package that verified (default 03 accepted); a failing one is always 02.")
@click.option("--staff", default="", help="StaffInfo: who handles it.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--offline", is_flag=True, help="Use only the package's own validation data; no network.")
@_token_options
@click.pass_obj
def status_command(home, package_path, agency_code, status_code, staff, output, offline, token_label,
                   certificate_id, pin_env):
    """Verify a received package and write the signed status message answering it: 02 refused (with the
    verifier's reasons in Vietnamese) when it fails, else --code (default 03). Exit 0 accepted,
    1 refused, 65 unreadable package, 64 usage error."""
    from edxml import EdxmlError, Organisation, StatusCode, sign_status, status_for, verify_package
    from ledger import get_agency, open_store
    from ledger.errors import LedgerError

    try:
        data = package_path.read_bytes()
    except OSError as exc:
        raise _UsageError(f"{package_path}: {exc.strerror or exc}") from None
    store = open_store(home.database_url())
    try:
        agency = get_agency(store, agency_code)
        with _verifier_for(home, offline) as verifier:
            report = verify_package(data, verifier=verifier, settings=_settings(home), path=str(package_path))
        status = status_for(report, receiver=Organisation(agency.code, agency.name, agency.legacy_code),
                            at=datetime.now(timezone.utc), status=StatusCode(status_code) if status_code else None,
                            staff=staff)
        key, certificate, chain = _seal_key(home, token_label, certificate_id, pin_env)
        xml = sign_status(status, key=key, certificate=certificate, chain=chain)
    except (EdxmlError, LedgerError) as exc:
        _fail(exc)
    finally:
        store.dispose()
    output.write_bytes(xml)
    click.echo(f"kyso edxml: {output} - {status.status.value} ({status.status.label_vi}) "
               f"{status.response_for_document_id}: {status.description}")
    sys.exit(0 if report.passed else 1)
