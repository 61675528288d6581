"""SoftHSM tokens for the whole test run (owner: engineer 2, token bridge).

DESIGN.md: SOFTHSM2_CONF must be set before the library loads, and python-pkcs11 loads it once per process,
so every test of one pytest process shares ONE SoftHSM token directory. `pytest_configure` below creates it
in a fresh temporary folder and sets SOFTHSM2_CONF before any test or fixture runs; it is removed at exit.
Select tokens by label and use a label of your own (prefix it with your area) so areas never collide.

API (fixtures are session-scoped unless noted):
- `softhsm` -> `SoftHsm`: `.directory` (token_bridge.softhsm.SoftHsmDirectory; `.environment()` gives the
  env of a child process using the same tokens, `.conf_path`), `.module` (token_bridge.module.Pkcs11Module),
  `.create_token(label, *, user_pin=TEST_USER_PIN, so_pin=TEST_SO_PIN) -> TestToken` (idempotent per label).
- `TestToken`: `.label`, `.user_pin`, `.so_pin`, `.session` (a logged-in token_bridge.session.TokenSession
  with a repeating scripted PIN), `.generate_rsa(key_label, key_id, bits=2048) -> Pkcs11Key`,
  `.generate_ec(key_label, key_id, curve="secp256r1") -> Pkcs11Key`, `.write_certificate(cert, label=,
  key_id=)`, `.key(key_id) -> Pkcs11Key`.
- `personal_rsa_token` -> `ProvisionedKey` on token "test-personal-rsa": an RSA-2048 key (id 01), a personal
  certificate (UID=CCCD:..., OU x2, O, T, L, C=VN) issued by the test PKI's "gov" CA (tests/support/pki.py)
  with the same id and label, and the CA chain (gov, root) written on the token.
- `agency_ec_token` -> `ProvisionedKey` on token "test-agency-ec": a P-256 key (id 02) and an agency
  certificate (UID=MST:...) issued by "gov", with the chain.
  `ProvisionedKey`: `.token` (TestToken), `.key` (Pkcs11Key, a policies.keys.DigestSigner), `.certificate`
  (asn1crypto x509.Certificate), `.chain` (issuer first), `.certificate_der`, `.key_label`, `.key_id`.
- `provision_key(token, kind="rsa"|"ec", key_label=, key_id=, subject=[(attr, value)...], pki=None|pki,
  profile="personal"|"agency")`: the same for a token of your own (self-signed when `pki` is None).
- `self_signed_certificate(signer, subject, *, days=365, ca=False)` and `name_from(pairs)`: build
  certificates signed through any DigestSigner.
- `token_bridge` -> `RunningBridge` (`.url`, `.bridge`, `.consent`, `.audit`, `.page_origin`, `.page_port`):
  a bridge over every SoftHSM token, served on 127.0.0.1 and [::1] for the session (scripted consent, yes).
- `unsafe_set_pin_flags(directory, label, final_try=, locked=)`: put a token in the final-try / locked PIN
  state (SoftHSM has no PIN retry counter; the function's docstring says how).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from asn1crypto import x509

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme

TEST_USER_PIN = "123456"
TEST_SO_PIN = "87654321"

_STATE: dict[str, object] = {}


def pytest_configure(config) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kyso-softhsm-"))
    from token_bridge.softhsm import SoftHsmDirectory

    directory = SoftHsmDirectory.create(folder)
    directory.activate()
    _STATE["directory"] = directory


def pytest_unconfigure(config) -> None:
    directory = _STATE.pop("directory", None)
    if directory is not None:
        shutil.rmtree(directory.folder, ignore_errors=True)


@dataclass
class TestToken:
    __test__ = False  # not a test class

    label: str
    user_pin: str
    so_pin: str
    session: object  # token_bridge.session.TokenSession

    def generate_rsa(self, key_label: str, key_id: bytes, bits: int = 2048):
        from token_bridge.keys import generate_rsa_key_pair

        return generate_rsa_key_pair(self.session, label=key_label, key_id=key_id, bits=bits)

    def generate_ec(self, key_label: str, key_id: bytes, curve: str = "secp256r1"):
        from token_bridge.keys import generate_ec_key_pair

        return generate_ec_key_pair(self.session, label=key_label, key_id=key_id, curve=curve)

    def write_certificate(self, certificate, *, label: str, key_id: bytes) -> None:
        from token_bridge.keys import write_certificate

        write_certificate(self.session, certificate, label=label, key_id=key_id)

    def key(self, key_id: bytes):
        from token_bridge.keys import Pkcs11Key

        return Pkcs11Key(self.session, key_id)


@dataclass
class SoftHsm:
    directory: object  # token_bridge.softhsm.SoftHsmDirectory
    module: object  # token_bridge.module.Pkcs11Module
    tokens: dict[str, TestToken] = field(default_factory=dict)

    def create_token(self, label: str, *, user_pin: str = TEST_USER_PIN, so_pin: str = TEST_SO_PIN) -> TestToken:
        """Initialise a token `label` (once per run) and log in to it with a repeating scripted PIN."""
        from token_bridge.pin import RepeatingPinPrompt
        from token_bridge.softhsm import initialise_token

        if label in self.tokens:
            return self.tokens[label]
        initialise_token(self.module, label=label, so_pin=so_pin, user_pin=user_pin)
        session = self.module.session(label, pin_prompt=RepeatingPinPrompt(user_pin))
        token = TestToken(label=label, user_pin=user_pin, so_pin=so_pin, session=session)
        self.tokens[label] = token
        return token


@pytest.fixture(scope="session")
def softhsm() -> SoftHsm:
    from token_bridge.module import Pkcs11Module
    from token_bridge.softhsm import SOFTHSM_MODULE_PATH

    directory = _STATE["directory"]
    return SoftHsm(directory=directory, module=Pkcs11Module.load(SOFTHSM_MODULE_PATH))


# -- certificates signed through any DigestSigner ------------------------------------------------------


def name_from(pairs: list[tuple[str, str]]) -> x509.Name:
    """A Name from (attribute, value) pairs in order, one RDN each; attributes may repeat (OU)."""
    rdns = []
    for attribute, value in pairs:
        if attribute == "email_address":
            encoded = x509.NameTypeAndValue({"type": attribute, "value": value})
        else:
            # PrintableString where X.520 asks for it (C, serialNumber), UTF8String elsewhere (Vietnamese)
            kind = "printable_string" if attribute in ("country_name", "serial_number") else "utf8_string"
            encoded = x509.NameTypeAndValue(
                {"type": attribute, "value": x509.DirectoryString(name=kind, value=value)}
            )
        rdns.append(x509.RelativeDistinguishedName([encoded]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def self_signed_certificate(
    signer: DigestSigner,
    subject: x509.Name,
    *,
    days: int = 365,
    ca: bool = False,
    not_before: dt.datetime | None = None,
) -> x509.Certificate:
    """A self-signed certificate for `signer`'s key, SHA-256, signed through `sign_digest`."""
    public_key = signer.public_key_info()
    if public_key.algorithm == "rsa":
        signature_algorithm, scheme = "sha256_rsa", SignatureScheme.RSA_PKCS1V15
    else:
        signature_algorithm, scheme = "sha256_ecdsa", SignatureScheme.ECDSA
    start = not_before or dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=5)
    key_identifier = hashlib.sha1(public_key["public_key"].contents).digest()
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {
            "extn_id": "key_usage",
            "critical": True,
            "extn_value": {"digital_signature", "non_repudiation"} | ({"key_cert_sign", "crl_sign"} if ca else set()),
        },
        {"extn_id": "key_identifier", "critical": False, "extn_value": key_identifier},
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(64) | (1 << 63),
            "signature": {"algorithm": signature_algorithm},
            "issuer": subject,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=start),
                "not_after": x509.Time(name="utc_time", value=start + dt.timedelta(days=days)),
            },
            "subject": subject,
            "subject_public_key_info": public_key,
            "extensions": extensions,
        }
    )
    digest = hashlib.sha256(tbs.dump()).digest()
    signature = signer.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=scheme)
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": signature_algorithm},
            "signature_value": signature,
        }
    )


PERSONAL_SUBJECT = [
    ("country_name", "VN"),
    ("state_or_province_name", "Hà Nội"),
    ("locality_name", "Hà Nội"),
    ("organization_name", "UBND Phường Hoàn Kiếm"),
    ("organizational_unit_name", "Phòng Văn hóa - Xã hội"),
    ("organizational_unit_name", "UBND Phường Hoàn Kiếm"),
    ("title", "Phó Chủ tịch"),
    ("common_name", "Nguyễn Thị Thu Hà"),
    ("user_id", "CCCD:001186012345"),
]
AGENCY_SUBJECT = [
    ("country_name", "VN"),
    ("state_or_province_name", "Hà Nội"),
    ("locality_name", "Hà Nội"),
    ("organization_name", "UBND Phường Hoàn Kiếm"),
    ("common_name", "UBND Phường Hoàn Kiếm"),
    ("user_id", "MST:0100686209-199"),
]


@dataclass(frozen=True)
class ProvisionedKey:
    token: TestToken
    key: object  # token_bridge.keys.Pkcs11Key
    certificate: x509.Certificate
    key_label: str
    key_id: bytes
    chain: tuple[x509.Certificate, ...] = ()  # issuer first, up to the root

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.dump()


def provision_key(
    token: TestToken,
    *,
    kind: str,
    key_label: str,
    key_id: bytes,
    subject: list[tuple[str, str]],
    pki=None,
    profile: str = "personal",
) -> ProvisionedKey:
    """Generate a key pair on `token`, certify it (by the test PKI when given, else self-signed) and write
    the certificate (same CKA_ID and label as the key) and its CA chain (id = subject key identifier)."""
    key = token.generate_rsa(key_label, key_id) if kind == "rsa" else token.generate_ec(key_label, key_id)
    if pki is None:
        certificate, chain = self_signed_certificate(key, name_from(subject)), ()
    else:
        entity = pki.issue(f"bridge-{token.label}-{key_id.hex()}", profile=profile, attributes=subject, key=key)
        certificate, chain = entity.certificate, tuple(entity.chain)
    token.write_certificate(certificate, label=key_label, key_id=key_id)
    for ca_certificate in chain:
        token.write_certificate(
            ca_certificate, label=f"CA {ca_certificate.subject.native.get('common_name', '')}"[:64],
            key_id=ca_certificate.key_identifier or hashlib.sha1(ca_certificate.public_key.dump()).digest(),
        )
    return ProvisionedKey(token=token, key=key, certificate=certificate, key_label=key_label, key_id=key_id,
                          chain=chain)


@pytest.fixture(scope="session")
def personal_rsa_token(softhsm, pki) -> ProvisionedKey:
    """An official's token 'test-personal-rsa': RSA-2048 key id 01, a personal certificate (CCCD) issued
    by the test PKI's 'gov' CA, and the chain (gov, root) on the token."""
    token = softhsm.create_token("test-personal-rsa")
    return provision_key(token, kind="rsa", key_label="Nguyen Thi Thu Ha", key_id=b"\x01",
                         subject=PERSONAL_SUBJECT, pki=pki, profile="personal")


@pytest.fixture(scope="session")
def agency_ec_token(softhsm, pki) -> ProvisionedKey:
    """An agency's seal token 'test-agency-ec': P-256 key id 02, an organisation certificate (MST) issued by
    the test PKI's 'gov' CA, and the chain on the token."""
    token = softhsm.create_token("test-agency-ec")
    return provision_key(token, kind="ec", key_label="UBND Phuong Hoan Kiem", key_id=b"\x02",
                         subject=AGENCY_SUBJECT, pki=pki, profile="agency")


def unsafe_set_pin_flags(directory, label: str, *, final_try: bool = False, locked: bool = False) -> None:
    """UNSAFE, tests only: put SoftHSM's stored token flags in the final-try or locked PIN state.

    SoftHSM keeps no PIN retry counter (it only sets CKF_USER_PIN_COUNT_LOW after a wrong PIN), so tests of
    the final-try and locked behaviour rewrite the CKA_OS_TOKENFLAGS attribute (0x8000534B) in the token's
    `token.object` file and bump the file's generation; the loaded library re-reads it and reports the flags
    through C_GetTokenInfo as a real token would.
    """
    import pkcs11

    from token_bridge.module import PKCS11_LOCK

    path = directory.token_folder(label) / "token.object"
    with PKCS11_LOCK:
        data = bytearray(path.read_bytes())
        generation = struct.unpack(">Q", data[:8])[0]
        pos = 8
        found = False
        while pos < len(data):
            attribute, kind = struct.unpack(">QQ", data[pos : pos + 16])
            pos += 16
            if kind == 1:  # boolean
                length = 1
            elif kind == 2:  # unsigned long
                length = 8
            elif kind == 3:  # byte string, with its length first
                length = struct.unpack(">Q", data[pos : pos + 8])[0]
                pos += 8
            else:
                raise AssertionError(f"unexpected SoftHSM attribute kind {kind} in {path}")
            if attribute == 0x8000534B:
                flags = struct.unpack(">Q", data[pos : pos + 8])[0]
                flags &= ~int(pkcs11.TokenFlag.USER_PIN_FINAL_TRY | pkcs11.TokenFlag.USER_PIN_LOCKED)
                if final_try:
                    flags |= int(pkcs11.TokenFlag.USER_PIN_FINAL_TRY | pkcs11.TokenFlag.USER_PIN_COUNT_LOW)
                if locked:
                    flags |= int(pkcs11.TokenFlag.USER_PIN_LOCKED)
                data[pos : pos + 8] = struct.pack(">Q", flags)
                found = True
            pos += length
        assert found, f"no token flags attribute in {path}"
        data[:8] = struct.pack(">Q", generation + 1)
        path.write_bytes(bytes(data))


# -- a running token bridge on loopback ---------------------------------------------------------------


@dataclass
class RunningBridge:
    """A token bridge served in this process for the session (see the `token_bridge` fixture)."""

    url: str  # http://127.0.0.1:PORT
    settings: object  # token_bridge.settings.BridgeSettings
    bridge: object  # token_bridge.signing.Bridge
    consent: object  # token_bridge.consent.ScriptedConsent (default: yes); push answers to refuse once
    audit: object  # token_bridge.audit.AuditLog (in memory)
    page_origin: str  # an allowed origin: http://127.0.0.1:<page_port>
    page_port: int


@pytest.fixture(scope="session")
def token_bridge(softhsm, personal_rsa_token, agency_ec_token):
    """The bridge over every SoftHSM token of the run, on 127.0.0.1 and [::1] at a free port.

    Allowed origins: `page_origin` (http://127.0.0.1:<page_port>, serve your page there) and
    http://kyso.test. Consent is scripted (yes unless a test pushes `False` answers); the PIN prompt
    repeats TEST_USER_PIN.
    """
    from tests.support.servers import free_port
    from token_bridge.audit import AuditLog
    from token_bridge.consent import ScriptedConsent
    from token_bridge.http import serving
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.settings import BridgeSettings
    from token_bridge.signing import Bridge

    port, page_port = free_port(), free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    settings = BridgeSettings.from_config(
        {"port": port, "hosts": ["127.0.0.1", "::1"], "allowed_origins": [page_origin, "http://kyso.test"]}
    )
    consent = ScriptedConsent(default=True)
    audit = AuditLog()
    bridge = Bridge([softhsm.module], pin_prompt=RepeatingPinPrompt(TEST_USER_PIN), consent=consent, audit=audit)
    with serving(bridge, settings):
        yield RunningBridge(url=settings.base_url, settings=settings, bridge=bridge, consent=consent, audit=audit,
                            page_origin=page_origin, page_port=page_port)
