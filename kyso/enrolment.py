"""Composing the CA and the token bridge: the PKI of a kyso home, and enrolment of officials' tokens.

`ca` and `token_bridge` never import each other (DESIGN.md); this module, in the CLI layer, joins them:
- `init_pki(home, ...)`: the demo government PKI modelled on VGCA. The CA keys (root, issuing CA "gov",
  OCSP responder, TSA) are generated on a PKCS#11 token (SoftHSM in KYSO_HOME/tokens by default) and never
  leave it; their certificates go to KYSO_HOME/pki and onto the token with the key's CKA_ID and label; the
  records go to the kyso database. Running it again changes nothing and says so.
- `open_authority(home, ...)`: the `ca.authority.Authority` of a home, its keys on the token.
- `enroll_token(...)`: a key pair generated on an official's or agency's token, a CSR signed by the token,
  the certificate issued under the chosen profile, certificate and chain written back to the token.
PINs come from a `token_bridge.pin.PinPrompt` (environment variable, console, dialog), never from kyso.toml.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from asn1crypto import pem, x509

from ca.authority import Authority, IssuedCertificate, OcspResponder, TimeStampUnit
from ca.certificates import key_identifier
from ca.endpoints import PkiEndpoints
from ca.errors import AlreadyInitialised, CaError
from ca.requests import build_csr
from ca.store import Store
from kyso.config import ConfigError, Home, reject_unknown_keys
from token_bridge.keys import (
    ObjectKind,
    Pkcs11Key,
    delete_objects,
    generate_ec_key_pair,
    generate_rsa_key_pair,
    list_objects,
    write_certificate,
)
from token_bridge.module import DEFAULT_MODULE_PATH, Pkcs11Module
from token_bridge.pin import EnvironmentPinPrompt, PinPrompt, RepeatingPinPrompt, choose_pin_prompt
from token_bridge.softhsm import SoftHsmDirectory, initialise_token

CA_SETTINGS = frozenset({"base_url", "token_label", "module", "crl_days", "pin", "so_pin"})
DEFAULT_BASE_URL = "http://127.0.0.1:8470"
DEFAULT_CA_TOKEN = "kyso-ca"
MANIFEST = "pki.json"

logger = logging.getLogger(__name__)

ORG_CA = "Ban Co yeu Chinh phu (Demo)"
# The demo hierarchy (DOMAIN.md: VGCA G1 root "Co quan chung thuc so chuyen dung Chinh phu (RootCA)" and
# its issuing CA for state agencies "Co quan chung thuc so Chinh phu"), clearly marked as a demo.
DEMO_HIERARCHY = {
    "root": {"key": ("rsa", 2048), "key_id": b"\x01", "profile": "root-ca", "days": 7300,
             "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                            ("common_name", "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)")]},
    "gov": {"key": ("rsa", 2048), "key_id": b"\x02", "profile": "issuing-ca", "days": 3650,
            "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                           ("common_name", "Co quan chung thuc so Chinh phu (Demo)")]},
    "ocsp": {"key": ("ec", "secp256r1"), "key_id": b"\x03", "profile": "ocsp", "days": 730,
             "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                            ("common_name", "OCSP Co quan chung thuc so Chinh phu (Demo)")]},
    "tsa": {"key": ("ec", "secp256r1"), "key_id": b"\x04", "profile": "tsa", "days": 1825,
            "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                           ("common_name", "Dich vu cap dau thoi gian (Demo TSA)")]},
}


@dataclass(frozen=True)
class CaSettings:
    base_url: str
    token_label: str
    module: str
    crl_days: int

    @classmethod
    def from_home(cls, home: Home) -> "CaSettings":
        section = home.section("ca")
        reject_unknown_keys("ca", section, CA_SETTINGS)
        if home.config_file.exists():
            import tomllib

            written = tomllib.loads(home.config_file.read_text(encoding="utf-8")).get("ca", {})
            for secret in ("pin", "so_pin"):
                if secret in written:
                    raise ConfigError(
                        f"{home.config_file}: [ca] {secret} must not be written in a file; "
                        f"use the environment variable KYSO_CA_{secret.upper()} or the prompt"
                    )
        try:
            crl_days = int(section.get("crl_days", 7))
        except (TypeError, ValueError):
            raise ConfigError(f"[ca] crl_days must be a whole number of days, not {section['crl_days']!r}") from None
        return cls(
            base_url=str(section.get("base_url") or DEFAULT_BASE_URL),
            token_label=str(section.get("token_label") or DEFAULT_CA_TOKEN),
            module=str(section.get("module") or DEFAULT_MODULE_PATH),
            crl_days=crl_days,
        )


def load_module(home: Home, module_path: str = DEFAULT_MODULE_PATH) -> Pkcs11Module:
    """The PKCS#11 module; for SoftHSM, pointed at the home's own token directory first."""
    if Path(module_path).resolve() == Path(DEFAULT_MODULE_PATH).resolve():
        home.ensure()
        directory = SoftHsmDirectory.create(home.path, token_dir=home.token_dir)
        directory.activate()
    return Pkcs11Module.load(module_path)


def ca_pin_prompt() -> PinPrompt:
    """KYSO_CA_PIN when set (scripts, the demo), otherwise a dialog or the console."""
    if os.environ.get("KYSO_CA_PIN"):
        return EnvironmentPinPrompt("KYSO_CA_PIN")
    return choose_pin_prompt()


# -- the PKI of a home ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PkiSummary:
    directory: Path
    token_label: str
    base_url: str
    certificates: dict[str, x509.Certificate]
    created: bool


def manifest_path(home: Home) -> Path:
    return home.pki_dir / MANIFEST


def init_pki(home: Home, *, user_pin: str, so_pin: str, base_url: str | None = None) -> PkiSummary:
    """Create the demo PKI of `home` (keys on the CA token); when it exists already, change nothing."""
    settings = CaSettings.from_home(home)
    base_url = base_url or settings.base_url
    if manifest_path(home).exists():
        return _summary(home, created=False)
    module = load_module(home, settings.module)
    if any(token.label == settings.token_label for token in module.tokens()):
        raise AlreadyInitialised(
            f"thiết bị {settings.token_label} đã tồn tại nhưng {manifest_path(home)} không có: "
            "hãy xóa thiết bị cũ hoặc chọn [ca] token_label khác",
            f"token {settings.token_label} exists but {manifest_path(home)} does not: "
            "delete the old token or choose another [ca] token_label",
        )
    initialise_token(module, label=settings.token_label, so_pin=so_pin, user_pin=user_pin)
    session = module.session(settings.token_label, pin_prompt=RepeatingPinPrompt(user_pin))
    keys: dict[str, Pkcs11Key] = {}
    for name, spec in DEMO_HIERARCHY.items():
        kind, size = spec["key"]
        if kind == "rsa":
            keys[name] = generate_rsa_key_pair(session, label=name, key_id=spec["key_id"], bits=size)
        else:
            keys[name] = generate_ec_key_pair(session, label=name, key_id=spec["key_id"], curve=size)

    store = Store.open(home.database_url())
    try:
        authority = Authority(store=store, endpoints=PkiEndpoints(base_url),
                              crl_validity=timedelta(days=settings.crl_days))
        now = authority.clock()
        root = authority.create_root("root", attributes=DEMO_HIERARCHY["root"]["attributes"], key=keys["root"],
                                     not_after=now + timedelta(days=DEMO_HIERARCHY["root"]["days"]))
        gov = authority.create_subordinate("gov", parent="root", attributes=DEMO_HIERARCHY["gov"]["attributes"],
                                           key=keys["gov"],
                                           not_after=now + timedelta(days=DEMO_HIERARCHY["gov"]["days"]))
        certificates = {"root": root.certificate, "gov": gov.certificate}
        for name in ("ocsp", "tsa"):
            spec = DEMO_HIERARCHY[name]
            issued = authority.issue(issuer="gov", profile=spec["profile"], attributes=spec["attributes"],
                                     public_key=keys[name].public_key_info(), validity_days=spec["days"])
            certificates[name] = issued.certificate
        home.pki_dir.mkdir(parents=True, exist_ok=True)
        for name, certificate in certificates.items():
            write_certificate(session, certificate, label=name, key_id=DEMO_HIERARCHY[name]["key_id"])
            _write_certificate_files(home.pki_dir, name, certificate)
        _configure_services(authority, keys, certificates)
        for ca_name in ("root", "gov"):
            (home.pki_dir / f"{ca_name}.crl").write_bytes(authority.publish_crl(ca_name).dump())
    finally:
        store.close()
    manifest = {
        "token_label": settings.token_label,
        "module": settings.module,
        "base_url": base_url.rstrip("/"),
        "entities": {name: {"key_id": spec["key_id"].hex(), "certificate": f"{name}.crt",
                            "profile": spec["profile"]} for name, spec in DEMO_HIERARCHY.items()},
    }
    manifest_path(home).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return _summary(home, created=True)


def _write_certificate_files(directory: Path, name: str, certificate: x509.Certificate) -> None:
    (directory / f"{name}.crt").write_bytes(certificate.dump())
    (directory / f"{name}.pem").write_bytes(pem.armor("CERTIFICATE", certificate.dump()))


def _read_manifest(home: Home) -> dict:
    path = manifest_path(home)
    if not path.exists():
        raise CaError(
            f"chưa có PKI trong {home.path}: hãy chạy 'kyso pki init'",
            f"no PKI in {home.path}: run 'kyso pki init' first",
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _summary(home: Home, *, created: bool) -> PkiSummary:
    manifest = _read_manifest(home)
    certificates = {
        name: x509.Certificate.load((home.pki_dir / entry["certificate"]).read_bytes())
        for name, entry in manifest["entities"].items()
    }
    return PkiSummary(home.pki_dir, manifest["token_label"], manifest["base_url"], certificates, created)


def _configure_services(authority: Authority, keys, certificates) -> None:
    gov_chain = (certificates["gov"], certificates["root"])
    authority.set_ocsp_responder("gov", OcspResponder(certificates["ocsp"], keys["ocsp"], delegated=True))
    authority.set_time_stamp_unit(TimeStampUnit(certificates["tsa"], keys["tsa"], gov_chain))


def open_authority(home: Home, *, pin_prompt: PinPrompt | None = None) -> Authority:
    """The authority of `home`: certificates from KYSO_HOME/pki, keys on the CA token (PIN asked once)."""
    manifest = _read_manifest(home)
    settings = CaSettings.from_home(home)
    module = load_module(home, manifest.get("module", settings.module))
    session = module.session(manifest["token_label"], pin_prompt=pin_prompt or ca_pin_prompt())
    summary = _summary(home, created=False)
    keys = {name: Pkcs11Key(session, bytes.fromhex(entry["key_id"]))
            for name, entry in manifest["entities"].items()}
    authority = Authority(store=Store.open(home.database_url()), endpoints=PkiEndpoints(manifest["base_url"]),
                          crl_validity=timedelta(days=settings.crl_days))
    certificates = summary.certificates
    authority.attach_issuer("root", certificate=certificates["root"], key=keys["root"])
    authority.attach_issuer("gov", certificate=certificates["gov"], key=keys["gov"], chain=(certificates["root"],))
    _configure_services(authority, keys, certificates)
    return authority


# -- enrolment of an official's or an agency's token ----------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    token_label: str
    key_label: str
    key_id: bytes
    issued: IssuedCertificate


def initialise_user_token(home: Home, *, label: str, user_pin: str, so_pin: str,
                          module_path: str = DEFAULT_MODULE_PATH) -> None:
    """Initialise a new SoftHSM token `label` in the home's token directory."""
    module = load_module(home, module_path)
    initialise_token(module, label=label, so_pin=so_pin, user_pin=user_pin)


def enroll_token(
    authority: Authority,
    module: Pkcs11Module,
    *,
    token_label: str,
    pin_prompt: PinPrompt,
    profile: str,
    attributes: list[tuple[str, str]],
    key_label: str,
    key_kind: str = "rsa",
    issuer: str = "gov",
    validity_days: int | None = None,
) -> Enrolment:
    """Generate the key on the token, have the token sign the CSR, issue, and write certificate + chain.

    The profile is checked before the key is generated, so a refused subject leaves the token untouched.
    When anything fails after the key was generated (issuance refused, the CA database or the token
    failing), the key pair, its certificate and the CA certificates this enrolment wrote are deleted from
    the token again and the original error is raised unchanged.
    """
    authority.profiles.get(profile).check_subject(attributes)
    # Reach the CA key first (its token, its PIN): a CA that cannot sign must not leave an orphan key pair
    # on the official's token.
    authority.issuer(issuer).key.public_key_info()
    session = module.session(token_label, pin_prompt=pin_prompt)
    key_id = secrets.token_bytes(8)
    if key_kind == "rsa":
        key = generate_rsa_key_pair(session, label=key_label, key_id=key_id, bits=2048)
    elif key_kind == "ec":
        key = generate_ec_key_pair(session, label=key_label, key_id=key_id, curve="secp256r1")
    else:
        raise CaError(f"loại khóa không hỗ trợ: {key_kind}", f"unsupported key kind: {key_kind} (rsa or ec)")
    written: list[tuple[bytes, str]] = []  # CA certificates this enrolment put on the token
    try:
        csr = build_csr(attributes, key)
        issued = authority.issue_from_csr(csr, issuer=issuer, profile=profile, validity_days=validity_days)
        write_certificate(session, issued.certificate, label=key_label, key_id=key_id)
        on_token = list_objects(session)
        present = {obj.certificate for obj in on_token if obj.certificate}
        taken = {(obj.key_id, obj.label) for obj in on_token}
        for ca_certificate in issued.chain:
            if ca_certificate.dump() in present:
                continue
            ca_id = ca_certificate.key_identifier or key_identifier(ca_certificate.public_key)
            ca_label = ca_certificate.subject.native.get("common_name", "CA")[:64]
            if (ca_id, ca_label) not in taken:  # only then is deleting it by id and label safe
                written.append((ca_id, ca_label))
            write_certificate(session, ca_certificate, key_id=ca_id, label=ca_label)
    except BaseException as failure:
        # Issuance refused, CA database or token failure, interruption: take back what this enrolment put
        # on the token, so no orphan key pair stays, then re-raise the original error unchanged.
        _take_back(session, key_id=key_id, key_label=key_label, ca_certificates=written, failure=failure)
        raise
    return Enrolment(token_label=token_label, key_label=key_label, key_id=key_id, issued=issued)


def _take_back(session, *, key_id: bytes, key_label: str, ca_certificates: list[tuple[bytes, str]],
               failure: BaseException) -> None:
    """Delete the key pair (and its certificate, if written) and the CA certificates written by a failed
    enrolment. A failure here is noted on `failure` (and logged), never raised in its place."""
    try:
        delete_objects(session, key_id=key_id, label=key_label)
        for ca_id, ca_label in ca_certificates:
            delete_objects(session, key_id=ca_id, label=ca_label, kinds=frozenset({ObjectKind.CERTIFICATE}))
    except Exception as cleanup_error:  # noqa: BLE001 - the enrolment's own error is the one to report
        note = (f"khóa mã {key_id.hex()} nhãn '{key_label}' chưa xóa được khỏi thiết bị '{session.label}': "
                f"{cleanup_error} / the key pair id {key_id.hex()} label '{key_label}' could not be deleted "
                f"from token '{session.label}': {cleanup_error}")
        logger.warning("enrolment failed and its key pair stays on the token: %s", note)
        failure.add_note(note)


# -- the roster (ledger) kept current by enrolment and revocation ---------------------------------------


def _roster(home: Home):
    from ledger.store import open_store

    return open_store(home.database_url())


def check_roster_agency(home: Home, agency_code: str) -> None:
    """Raise ledger's `UnknownAgency` before anything is generated or issued for an agency not on the roster."""
    from ledger.roster import get_agency

    store = _roster(home)
    try:
        get_agency(store, agency_code)
    finally:
        store.engine.dispose()


def record_on_roster(home: Home, issued: IssuedCertificate, *, agency_code: str, profile: str) -> None:
    """DESIGN.md, enrolment: the roster records who holds which certificate."""
    from ledger.roster import enrol_certificate
    from policies.identity import parse_identity

    identity = parse_identity(issued.certificate)
    store = _roster(home)
    try:
        enrol_certificate(
            store, serial=issued.serial_number, agency_code=agency_code, kind=profile,
            not_before=issued.certificate.not_valid_before, not_after=issued.certificate.not_valid_after,
            full_name=identity.common_name, identifiers=[str(i) for i in identity.identifiers],
            title=identity.title, subject=issued.certificate.subject.human_friendly,
        )
    finally:
        store.engine.dispose()


def revoke_on_roster(home: Home, serial_number: int, *, revoked_at, reason: str) -> bool:
    """Mark the certificate revoked on the roster too; False when the roster does not list it."""
    from ledger.errors import UnknownCertificate as NotOnRoster
    from ledger.roster import revoke_certificate

    store = _roster(home)
    try:
        revoke_certificate(store, serial_number, revoked_at=revoked_at, reason=reason)
        return True
    except NotOnRoster:
        return False
    finally:
        store.engine.dispose()
