"""`kyso sign IN -o OUT --kind KIND --token LABEL ...`: sign on the computer that holds the token.

PDFs get a PAdES signature with the Decree 30 appearance of the kind; any other file gets a CAdES
detached signature (`OUT` defaults to `IN.p7s`). IN may be a folder: every file in it is signed into the
folder `-o`, with a progress bar and a summary of what failed and why (exit 1 when any failed). The PIN
comes from the token's prompt, or from the environment variable named by `--pin-env`: never from the
command line. Trust roots default to the demo PKI of KYSO_HOME (`kyso pki init`), the TSA to its /pki/tsa.

`--kind issue` numbers the document from the home's ledger (agency, year, series). The number is reserved for
the file being signed (ledger.numbering), made final only once the signed file is in place, and released on
any failure after it was taken (TSA unreachable, wrong PIN, output not writable, Ctrl-C), so the next signing
of the series gets it again and the series keeps no gap. In a folder every file has its own reservation.
A process killed outright (SIGKILL, power loss) leaves its reservation until it lapses after `NUMBER_HOLD`;
the next allocation of the series then gives it again. (`--kind incoming` takes its number from
`--incoming-number`: it allocates nothing.)

[signer] keys in kyso.toml: level, tsa_url, trust (list of certificate files), revocation
(soft-fail | hard-fail | off), module (PKCS#11 library), signature_image, seal_image, seal_diameter_mm.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

KINDS = ["approve", "issue", "appendix", "copy", "incoming"]
LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
SIGNER_KEYS = frozenset({"level", "tsa_url", "trust", "revocation", "module", "signature_image", "seal_image",
                         "seal_diameter_mm"})
# How long a number stays reserved for one file: longer than any signing (TSA retries, a PIN typed at the
# token's prompt), short enough that a killed process's number returns to the series the same day.
NUMBER_HOLD = timedelta(minutes=30)


@dataclass(frozen=True)
class _Outcome:
    source: Path
    target: Path | None
    error: str | None


class _ReservedNumbers:
    """`environment.numbers` for `kyso sign`: what the signer takes is a reservation held by the file being
    signed (`begin` names a new holder per file), made final by `publish` together with putting the signed
    file in place, or given back by `release`."""

    def __init__(self, allocator):
        self.allocator = allocator
        self.holder: str | None = None
        self.taken: list[int] = []

    def begin(self) -> None:
        self.holder, self.taken = f"kyso-sign-{uuid.uuid4().hex}", []

    def allocate(self, agency_code: str, year: int, series: str) -> int:
        if self.holder is None:
            raise RuntimeError("a number was asked outside a signing")
        now = datetime.now(timezone.utc)
        number = self.allocator.reserve(agency_code, year, series, holder=self.holder,
                                        expires_at=now + NUMBER_HOLD, now=now)
        self.taken.append(number)
        return number

    def publish(self, put_in_place, take_back) -> None:
        """Finalize the reservation and `put_in_place()` the signed file in one transaction: if either fails,
        neither stays (`take_back()` removes the file when the commit fails after it) and the caller releases
        the number."""
        from ledger.numbering import finalize_in

        if not self.taken:
            put_in_place()
            return
        placed = False
        try:
            with self.allocator.store.transaction() as session:
                if not finalize_in(session, self.holder, now=datetime.now(timezone.utc),
                                   seal=self.allocator.store.head_seal):
                    raise _NumberLapsed(
                        f"số {', '.join(f'{n:02d}' for n in self.taken)} giữ cho lần ký này đã hết hạn và được "
                        f"cấp lại; hãy ký lại / the number reserved for this signing lapsed and was given again; "
                        f"sign again"
                    )
                put_in_place()
                placed = True
        except BaseException:
            if placed:
                take_back()
            raise

    def release(self) -> str | None:
        """Give back what this file still holds; a warning to show when the ledger could not be reached."""
        holder, taken = self.holder, self.taken
        self.holder, self.taken = None, []
        if not taken:
            return None
        try:
            self.allocator.release(holder)
        except Exception as exc:  # noqa: BLE001 - the signing already failed: say so, do not hide that error
            return (f"chưa trả lại được số {', '.join(f'{n:02d}' for n in taken)}; số sẽ được cấp lại sau "
                    f"{int(NUMBER_HOLD.total_seconds() // 60)} phút / could not give back number(s) now ({exc}); "
                    f"they return to the series when the reservation lapses")
        return None


class _NumberLapsed(Exception):
    pass


def _load_certificates(path: Path):
    from asn1crypto import pem, x509

    try:
        data = path.read_bytes()
        if pem.detect(data):
            certificates = [x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                            if kind == "CERTIFICATE"]
        else:
            certificates = [x509.Certificate.load(data)]
        for certificate in certificates:
            certificate.native  # parse now: a wrong file is a usage error here, not a crash later
    except (OSError, ValueError, TypeError) as exc:
        raise click.UsageError(
            f"không đọc được chứng thư {path} / cannot read the certificate {path}: {exc}"
        ) from exc
    if not certificates:
        raise click.UsageError(f"tệp {path} không có chứng thư / {path} holds no certificate")
    return certificates


def _demo_pki(home):
    """(roots, intermediates, tsa_url) of the home's demo PKI, or empties when there is none."""
    from kyso.enrolment import manifest_path

    roots, others, tsa = [], [], None
    if not home.pki_dir.is_dir():
        return roots, others, tsa
    for item in sorted(home.pki_dir.glob("*.crt")):
        for certificate in _load_certificates(item):
            (roots if certificate.self_signed in ("maybe", "yes") else others).append(certificate)
    manifest = manifest_path(home)
    if manifest.exists():
        base = json.loads(manifest.read_text(encoding="utf-8")).get("base_url")
        tsa = f"{base.rstrip('/')}/pki/tsa" if base else None
    return roots, others, tsa


def _token_key(home, settings, token_label: str, certificate_id: str | None, pin_env: str | None):
    """The signing key and certificate on the token labelled `token_label` (through token_bridge)."""
    import os

    from token_bridge.catalogue import CertificateCatalogue
    from token_bridge.keys import Pkcs11Key
    from token_bridge.module import DEFAULT_MODULE_PATH, Pkcs11Module
    from token_bridge.pin import EnvironmentPinPrompt, choose_pin_prompt
    from token_bridge.softhsm import SoftHsmDirectory

    path = settings.get("module") or DEFAULT_MODULE_PATH
    # SoftHSM: the home's own token directory, unless SOFTHSM2_CONF already names one (as the bridge does)
    if Path(path).resolve() == Path(DEFAULT_MODULE_PATH).resolve() and not os.environ.get("SOFTHSM2_CONF"):
        home.ensure()
        SoftHsmDirectory.create(home.path, token_dir=home.token_dir).activate()
    module = Pkcs11Module.load(path)
    prompt = EnvironmentPinPrompt(pin_env) if pin_env else choose_pin_prompt()
    entries = [e for e in CertificateCatalogue([module]).scan() if e.token_label == token_label]
    if certificate_id:
        entries = [e for e in entries if e.certificate_id.startswith(certificate_id.lower())]
    if not entries:
        raise click.UsageError(
            f"không có chứng thư ký trên thiết bị {token_label!r} / no signing certificate on token {token_label!r}"
        )
    if len(entries) > 1:
        listing = ", ".join(f"{e.certificate_id[:16]} ({e.identity.common_name})" for e in entries)
        raise click.UsageError(
            f"thiết bị có nhiều chứng thư, hãy chọn --certificate-id / several certificates on the token, "
            f"choose one with --certificate-id: {listing}"
        )
    entry = entries[0]
    session = module.session(token_label, pin_prompt=prompt)
    key = Pkcs11Key(session, entry.key_id, public_key_info=entry.certificate.public_key)
    return key, entry.certificate, list(entry.chain[:-1] if entry.chain and entry.chain[-1].self_signed in (
        "maybe", "yes") else entry.chain)


def _read_image(path: str | None, role: str):
    from signer import StampImage

    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise click.UsageError(f"không đọc được ảnh {role} {path}: {exc} / cannot read the {role} image") from exc
    return StampImage.from_png(data, role=role)


@click.command("sign")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Signed file (or folder, when IN is a folder). Default: IN with '-signed' / '.p7s'.")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Decree 30 kind of signature.")
@click.option("--token", "token_label", required=True, help="Label of the PKCS#11 token holding the key.")
@click.option("--certificate-id", help="Which certificate of the token (SHA-256 prefix), when it has several.")
@click.option("--pin-env", metavar="VAR", help="Read the PIN from environment variable VAR (never a PIN here).")
@click.option("--level", type=click.Choice(LEVELS), help="PAdES level (default: [signer] level, else B-T).")
@click.option("--format", "output_format", type=click.Choice(["auto", "pades", "cades"]), default="auto",
              show_default=True, help="auto: PAdES for .pdf files, CAdES detached (.p7s) for others.")
@click.option("--signature-image", type=click.Path(dir_okay=False), help="approve: blue transparent PNG.")
@click.option("--title", help="approve: the title line to find (default: the certificate's title).")
@click.option("--signer-name", help="approve: the name line to find (default: the certificate's name).")
@click.option("--field", "field_name", help="approve: sign into this empty signature field.")
@click.option("--seal-image", type=click.Path(dir_okay=False), help="issue: red transparent PNG of the seal.")
@click.option("--seal-diameter", type=float, help="issue: the seal's real diameter in mm (default: PNG DPI).")
@click.option("--agency-code", help="issue: the agency code the number is counted for.")
@click.option("--series", help="issue: the notation after the number, e.g. QĐ-UBND.")
@click.option("--notation", help="appendix: number/notation of the main document, e.g. 15/QĐ-UBND.")
@click.option("--copy-form", type=click.Choice(["SAO Y", "SAO LỤC", "TRÍCH SAO"]), help="copy: the form.")
@click.option("--copying-agency", help="copy: the agency making the copy.")
@click.option("--incoming-number", type=int, help="incoming: the incoming register number.")
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Trust root certificate (DER or PEM), repeatable (default: the demo PKI of KYSO_HOME).")
@click.option("--tsa", "tsa_url", help="RFC 3161 TSA URL (default: [signer] tsa_url, else the demo PKI's).")
@click.pass_obj
def sign(home, source, output, kind, token_label, certificate_id, pin_env, level, output_format,
         signature_image, title, signer_name, field_name, seal_image, seal_diameter, agency_code, series,
         notation, copy_form, copying_agency, incoming_number, trust, tsa_url):
    """Sign a file or every file of a folder with the key on a token (ký số văn bản)."""
    from kyso.config import ConfigError, reject_unknown_keys
    from signer import CopyForm, PadesLevel, SignatureKind, SignatureRequest, SigningEnvironment
    from signer.errors import SignerError
    from token_bridge.errors import TokenBridgeError

    try:
        settings = home.section("signer")
        reject_unknown_keys("signer", settings, SIGNER_KEYS)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        level_value = PadesLevel(level or settings.get("level") or "B-T")
    except ValueError as exc:
        raise click.UsageError(f"[signer] level must be one of {', '.join(LEVELS)}: {exc}") from exc
    if settings.get("revocation", "soft-fail") not in ("soft-fail", "hard-fail", "off"):
        raise click.UsageError("[signer] revocation must be soft-fail, hard-fail or off")
    # A CAdES signature has no appearance: the kind's appearance inputs only matter when a PDF is signed.
    pdf_inputs = output_format == "pades" or (output_format == "auto" and (
        any(p.suffix.lower() == ".pdf" for p in source.iterdir() if p.is_file()) if source.is_dir()
        else source.suffix.lower() == ".pdf"))
    request = None
    try:
        signature_stamp = _read_image(signature_image or (settings.get("signature_image") if kind == "approve"
                                                          else None), "signature")
        seal_stamp = _read_image(seal_image or (settings.get("seal_image") if kind == "issue" else None), "seal")
        from signer.request import Placement

        request = SignatureRequest(
            kind=SignatureKind(kind), level=level_value,
            signature_image=signature_stamp, title=title, signer_name=signer_name,
            placement=Placement(field_name=field_name) if field_name else None,
            seal_image=seal_stamp,
            seal_diameter_mm=seal_diameter or (float(settings["seal_diameter_mm"])
                                               if kind == "issue" and settings.get("seal_diameter_mm") else None),
            agency_code=agency_code, series=series, notation=notation,
            copy_form=CopyForm(copy_form) if copy_form else None, copying_agency=copying_agency,
            incoming_number=incoming_number,
        )
    except SignerError as exc:
        if pdf_inputs:
            raise click.UsageError(str(exc)) from exc
    roots, intermediates, demo_tsa = _demo_pki(home)
    trust_files = list(trust) or list(settings.get("trust", []))
    if trust_files:
        roots = [c for path in trust_files for c in _load_certificates(Path(path))]
    if not roots:
        raise click.UsageError(
            "chưa có chứng thư gốc tin cậy: dùng --trust hoặc 'kyso pki init' / "
            "no trust roots: pass --trust or run 'kyso pki init'"
        )

    numbers = None
    if kind == "issue":
        from ledger.numbering import SqlNumberAllocator
        from ledger.store import open_store

        allocator = SqlNumberAllocator(open_store(home.database_url()), require_known_agency=False)
        numbers = _ReservedNumbers(allocator)
    environment = SigningEnvironment(
        trust_roots=roots, other_certs=intermediates, tsa_url=tsa_url or settings.get("tsa_url") or demo_tsa,
        revocation_mode=settings.get("revocation", "soft-fail"), numbers=numbers,
    )
    try:
        key, certificate, chain = _token_key(home, settings, token_label, certificate_id, pin_env)
    except TokenBridgeError as exc:
        raise click.ClickException(f"{exc.message_vi}\n{exc}") from exc

    if source.is_dir():
        outcomes = _sign_folder(source, output, key, certificate, chain, request, environment, output_format,
                                kind=SignatureKind(kind), level=level_value, numbers=numbers)
        failed = [o for o in outcomes if o.error]
        click.echo(f"Đã ký / signed: {len(outcomes) - len(failed)}; lỗi / failed: {len(failed)}")
        for outcome in failed:
            click.echo(f"  {outcome.source.name}: {outcome.error}", err=True)
        if failed:
            raise SystemExit(1)
        return
    outcome = _sign_one(source, output, key, certificate, chain, request, environment, output_format,
                        kind=SignatureKind(kind), level=level_value, numbers=numbers)
    if outcome.error:
        raise click.ClickException(outcome.error)
    click.echo(f"Đã ký / signed: {outcome.target}")


def _target_for(source: Path, output: Path | None, pades: bool) -> Path:
    if output is not None:
        return output
    return source.with_name(f"{source.stem}-signed.pdf") if pades else source.with_name(source.name + ".p7s")


def _sign_one(source, output, key, certificate, chain, request, environment, output_format, *, kind,
              level, numbers: _ReservedNumbers | None = None) -> _Outcome:
    """Sign one file; never touch the input; write the output only when everything worked. A number taken
    for it (`issue`) is final only once the output is in place, and given back on any failure or interrupt."""
    from ledger.errors import LedgerError
    from signer import sign_cades, sign_pdf
    from signer.errors import SignerError
    from token_bridge.errors import TokenBridgeError

    pades = output_format == "pades" or (output_format == "auto" and source.suffix.lower() == ".pdf")
    target = _target_for(source, output, pades)
    if target.resolve() == source.resolve():
        return _Outcome(source, None, "tệp ra trùng tệp vào / the output would overwrite the input")
    temporary = target.with_name(target.name + ".part")
    if numbers is not None:
        numbers.begin()
    done = False
    try:
        try:
            data = source.read_bytes()
        except OSError as exc:
            return _Outcome(source, None, f"không đọc được tệp / cannot read the file: {exc}")
        try:
            if pades:
                result = sign_pdf(data, key=key, certificate=certificate, chain=chain, request=request,
                                  environment=environment).pdf
            else:
                result = sign_cades(data, key=key, certificate=certificate, chain=chain, environment=environment,
                                    kind=kind, timestamper=environment.timestamper if level.has_timestamp else None)
        except SignerError as exc:
            return _Outcome(source, None, str(exc))
        except TokenBridgeError as exc:
            return _Outcome(source, None, f"{exc.message_vi} / {exc}")
        try:
            temporary.write_bytes(result)
            if numbers is None:
                temporary.replace(target)
            else:
                numbers.publish(lambda: temporary.replace(target), lambda: target.unlink(missing_ok=True))
        except OSError as exc:
            return _Outcome(source, None, f"không ghi được tệp ra / cannot write the output: {exc}")
        except _NumberLapsed as exc:
            return _Outcome(source, None, str(exc))
        except LedgerError as exc:
            return _Outcome(source, None, f"không ghi được số vào sổ / could not make the number final: {exc}")
        done = True
        return _Outcome(source, target, None)
    finally:
        if not done:  # failed or interrupted (Ctrl-C): no partial output, and the number goes back
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass
            if numbers is not None:
                warning = numbers.release()
                if warning:
                    click.echo(warning, err=True)


def _sign_folder(source: Path, output: Path | None, key, certificate, chain, request, environment,
                 output_format, *, kind, level, numbers: _ReservedNumbers | None = None) -> list[_Outcome]:
    if output is None:
        raise click.UsageError("ký cả thư mục cần -o THƯ-MỤC / signing a folder needs -o FOLDER")
    output.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.iterdir() if p.is_file())
    outcomes = []
    with click.progressbar(files, label="Đang ký / signing", file=click.get_text_stream("stderr"),
                           item_show_func=lambda p: p.name if p else "") as bar:
        for path in bar:
            pades = output_format == "pades" or (output_format == "auto" and path.suffix.lower() == ".pdf")
            target = output / (path.name if pades else path.name + ".p7s")
            outcomes.append(_sign_one(path, target, key, certificate, chain, request, environment, output_format,
                                      kind=kind, level=level, numbers=numbers))
    return outcomes
