"""Signed documents and odd PKI shapes for the verifier's tests (engineer 4's fixtures).

Documents are signed with stock pyHanko (`PdfSigner` over a `SimpleSigner` made from the shared test PKI's
in-memory keys), so the verifier's tests do not depend on our own signer. Shapes `ca/` refuses to issue on
purpose (a SHA-1 legacy CA chain like the first VGCA generation, an RSA-1024 signer, a root nobody trusts)
are built here with `cryptography`'s certificate builder.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass

import pytest
from asn1crypto import keys as asn1_keys, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore


def private_key_info(private_key) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def simple_signer(private_key, certificate: asn1_x509.Certificate, chain=()) -> signers.SimpleSigner:
    return signers.SimpleSigner(
        signing_cert=certificate, signing_key=private_key_info(private_key),
        cert_registry=SimpleCertificateStore.from_certs(list(chain)),
    )


def sign_pdf(
    data: bytes,
    signer: signers.Signer,
    *,
    field: str = "Signature1",
    timestamper: timestamps.TimeStamper | None = None,
    md_algorithm: str = "sha256",
    certify: fields.MDPPerm | None = None,
    embed_validation_info: bool = False,
    validation_context=None,
    claimed_time: dt.datetime | None = None,
) -> bytes:
    """Sign `data` in an incremental update with stock pyHanko; returns the new file. `claimed_time` sets
    the CMS signingTime (e.g. local time labelled as UTC, the +7 h quirk)."""
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm=md_algorithm, subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify is not None, docmdp_permissions=certify or fields.MDPPerm.FILL_FORMS,
        embed_validation_info=embed_validation_info, validation_context=validation_context,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    pdf_signer = _ClaimingPdfSigner(meta, signer, timestamper=timestamper, claimed_time=claimed_time)
    return pdf_signer.sign_pdf(writer).getvalue()


class _ClaimingPdfSigner(signers.PdfSigner):
    """Stock PdfSigner whose signing session claims a given signing time."""

    def __init__(self, *args, claimed_time=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._claimed_time = claimed_time

    def init_signing_session(self, *args, **kwargs):
        session = super().init_signing_session(*args, **kwargs)
        if self._claimed_time is not None:
            session.system_time = self._claimed_time
        return session


def add_document_timestamp(data: bytes, timestamper: timestamps.TimeStamper, *, field: str = "DocTS1") -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = signers.PdfTimeStamper(timestamper, field_name=field).timestamp_pdf(writer, md_algorithm="sha256")
    return out.getvalue()


# ---- a foreign PKI built with cryptography: shapes our own CA refuses to make ------------------------

def _name(common_name: str, uid: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Foreign test PKI"),
                  x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if uid:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attributes)


@dataclass(frozen=True)
class ForeignEntity:
    private_key: object
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]

    def signer(self) -> signers.SimpleSigner:
        return simple_signer(self.private_key, self.certificate, self.chain)


def _issue(subject: x509.Name, public_key, *, issuer_name: x509.Name, issuer_key, ca: bool,
           digest, key_usage: dict, now: dt.datetime, days: int = 365) -> asn1_x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(**{**dict(
                   digital_signature=False, content_commitment=False, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                   encipher_only=False, decipher_only=False), **key_usage}), critical=True))
    der = builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if isinstance(digest, hashes.SHA1):
        der = _resign_sha1(asn1_x509.Certificate.load(der), issuer_key, "tbs_certificate", "signature_value")
    return asn1_x509.Certificate.load(der)


def _resign_sha1(value, issuer_key, tbs_field: str, signature_field: str) -> bytes:
    """cryptography no longer signs X.509 structures with SHA-1: re-sign the TBS part ourselves (RSA only),
    as the first VGCA generation did."""
    from asn1crypto import algos
    from cryptography.hazmat.primitives.asymmetric import padding

    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha1_rsa"})
    tbs = value[tbs_field]
    tbs["signature"] = algorithm
    value["signature_algorithm"] = algorithm
    value[signature_field] = issuer_key.sign(tbs.dump(force=True), padding.PKCS1v15(), hashes.SHA1())
    return value.dump(force=True)


def crl_for(issuer_name: x509.Name, issuer_key, *, now: dt.datetime, revoked=(), digest=None) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name)
               .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7)))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    der = builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if isinstance(digest, hashes.SHA1):
        from asn1crypto import crl as asn1_crl

        der = _resign_sha1(asn1_crl.CertificateList.load(der), issuer_key, "tbs_cert_list", "signature")
    return der


@dataclass(frozen=True)
class ForeignPki:
    untrusted_root: asn1_x509.Certificate
    untrusted_signer: ForeignEntity
    legacy_root: asn1_x509.Certificate  # RSA-2048 signed with SHA-1, like VGCA G1
    legacy_signer: ForeignEntity  # EC P-256 certificate signed by the legacy root with SHA-1
    rsa1024_signer: ForeignEntity  # RSA-1024 certificate under the legacy root (SHA-256)
    legacy_crl: bytes  # the legacy root's CRL (SHA-1), listing nothing


@functools.cache
def build_foreign_pki() -> ForeignPki:
    now = dt.datetime.now(dt.timezone.utc)
    personal_ku = {"digital_signature": True, "content_commitment": True}
    ca_ku = {"key_cert_sign": True, "crl_sign": True}

    untrusted_key = ec.generate_private_key(ec.SECP256R1())
    untrusted_name = _name("Untrusted Root CA")
    untrusted_root = _issue(untrusted_name, untrusted_key.public_key(), issuer_name=untrusted_name,
                            issuer_key=untrusted_key, ca=True, digest=hashes.SHA256(), key_usage=ca_ku, now=now)
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _issue(_name("Nguyễn Văn Lạ", "CCCD:001099000111"), stranger_key.public_key(),
                      issuer_name=untrusted_name, issuer_key=untrusted_key, ca=False, digest=hashes.SHA256(),
                      key_usage=personal_ku, now=now)

    legacy_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    legacy_name = _name("Legacy SHA-1 Root CA (G1 style)")
    legacy_root = _issue(legacy_name, legacy_key.public_key(), issuer_name=legacy_name, issuer_key=legacy_key,
                         ca=True, digest=hashes.SHA1(), key_usage=ca_ku, now=now, days=3650)
    legacy_signer_key = ec.generate_private_key(ec.SECP256R1())
    legacy_signer = _issue(_name("Hoàng Văn Cũ", "CCCD:001070000222"), legacy_signer_key.public_key(),
                           issuer_name=legacy_name, issuer_key=legacy_key, ca=False, digest=hashes.SHA1(),
                           key_usage=personal_ku, now=now)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = _issue(_name("Đỗ Thị Yếu", "CCCD:001070000333"), weak_key.public_key(), issuer_name=legacy_name,
                  issuer_key=legacy_key, ca=False, digest=hashes.SHA256(), key_usage=personal_ku, now=now)
    return ForeignPki(
        untrusted_root=untrusted_root,
        untrusted_signer=ForeignEntity(stranger_key, stranger, (untrusted_root,)),
        legacy_root=legacy_root,
        legacy_signer=ForeignEntity(legacy_signer_key, legacy_signer, (legacy_root,)),
        rsa1024_signer=ForeignEntity(weak_key, weak, (legacy_root,)),
        legacy_crl=crl_for(legacy_name, legacy_key, now=now, digest=hashes.SHA1()),
    )


@pytest.fixture(scope="session")
def foreign_pki() -> ForeignPki:
    return build_foreign_pki()


@dataclass
class VerifierKit:
    """The shared test PKI seen from the verifier: signers, timestamps and verifiers trusting its root."""

    pki: object

    def signer(self, name: str) -> signers.SimpleSigner:
        entity = self.pki.entity(name)
        return simple_signer(entity.key.private_key, entity.certificate, entity.chain)

    def timestamper(self) -> timestamps.TimeStamper:
        return timestamps.HTTPTimeStamper(self.pki.tsa_url)

    def settings(self, **changes):
        from dataclasses import replace

        from verifier.settings import ValidationSettings

        return replace(ValidationSettings(explicit_roots=(("test-root", self.pki.root.certificate),)), **changes)

    def verifier(self, **changes):
        from verifier.validator import Verifier

        return Verifier(self.settings(**changes))


@pytest.fixture(scope="session")
def verifier_kit(pki) -> VerifierKit:
    return VerifierKit(pki)


@pytest.fixture(scope="session")
def shared_verifier(verifier_kit):
    """One online Verifier trusting the test root, reused by every test (as a batch would)."""
    with verifier_kit.verifier() as verifier:
        yield verifier


def nss_database(folder, pki):
    """An NSS database for `pdfsig` that trusts the test root (C,C,C) and holds the current CRLs
    (DESIGN.md pitfall: pdfsig needs both to judge trust and revocation). None without the NSS tools."""
    import shutil
    import subprocess
    from pathlib import Path

    if not shutil.which("certutil") or not shutil.which("pdfsig"):
        return None
    folder = Path(folder)
    db = folder / "nss"
    db.mkdir(exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    (folder / "root.der").write_bytes(pki.root.der)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "kyso-test-root", "-t", "C,C,C",
                    "-i", str(folder / "root.der")], check=True, capture_output=True)
    (folder / "gov.der").write_bytes(pki.gov.der)  # crlutil needs the CRL issuer in the database
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "kyso-test-gov", "-t", ",,",
                    "-i", str(folder / "gov.der")], check=True, capture_output=True)
    for name in ("root", "gov"):
        (folder / f"{name}.crl").write_bytes(pki.crl_der(name))
        subprocess.run(["crlutil", "-I", "-d", f"sql:{db}", "-i", str(folder / f"{name}.crl")],
                       check=True, capture_output=True)
    return db


@dataclass(frozen=True)
class EdwardsPki:
    """An EC root (as real CAs issue them) with Ed25519 and Ed448 signers (RFC 8032 keys, RFC 8419 in CMS)."""

    root: asn1_x509.Certificate
    crl: bytes
    ed25519: ForeignEntity
    ed448: ForeignEntity


@functools.cache
def build_edwards_pki() -> EdwardsPki:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    now = dt.datetime.now(dt.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("EdDSA Test Root CA")
    root = _issue(root_name, root_key.public_key(), issuer_name=root_name, issuer_key=root_key, ca=True,
                  digest=hashes.SHA256(), key_usage={"key_cert_sign": True, "crl_sign": True}, now=now)
    entities = {}
    for label, key in (("ed25519", ed25519.Ed25519PrivateKey.generate()), ("ed448", ed448.Ed448PrivateKey.generate())):
        certificate = _issue(_name(f"Phạm Văn {label.upper()}", "CCCD:001080000444"), key.public_key(),
                             issuer_name=root_name, issuer_key=root_key, ca=False, digest=hashes.SHA256(),
                             key_usage={"digital_signature": True, "content_commitment": True}, now=now)
        entities[label] = ForeignEntity(key, certificate, (root,))
    return EdwardsPki(root, crl_for(root_name, root_key, now=now), entities["ed25519"], entities["ed448"])
