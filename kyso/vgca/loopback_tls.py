"""The loopback TLS identity of the plugin endpoint: a local CA made at first start and a server
certificate for 127.0.0.1 / ::1 / localhost under it.

Pages of document systems are served over https and open `wss://127.0.0.1:8987/...`; a browser only
connects when it trusts the server certificate. The CA is made on this computer, for this computer: its
private key never leaves `KYSO_HOME/bridge/` (mode 0600), its name constraints (RFC 5280, 4.2.1.10)
limit it to the loopback names, so trusting it (`kyso bridge trust`) cannot let it vouch for any other site.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "loopback-ca.pem"
CA_KEY_FILE = "loopback-ca.key"
SERVER_FILE = "loopback-server.pem"
SERVER_KEY_FILE = "loopback-server.key"
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
CA_YEARS = 10
SERVER_DAYS = 397  # what browsers accept for a server certificate (CA/Browser Forum, 398 days)
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class LoopbackIdentity:
    """Paths of the CA certificate and of the server certificate and key."""

    ca_certificate: Path
    server_certificate: Path
    server_key: Path

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_certificate, self.server_key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only this CA (tests and local tools)."""
        context = ssl.create_default_context(cafile=str(self.ca_certificate))
        return context

    def spki_sha256_base64(self) -> str:
        """The server key's SPKI hash, as Chromium's --ignore-certificate-errors-spki-list wants it."""
        import base64

        certificate = x509.load_pem_x509_certificate(self.server_certificate.read_bytes())
        spki = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(spki)
        return base64.b64encode(digest.finalize()).decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_loopback_identity(folder: str | os.PathLike, *, now: dt.datetime | None = None) -> LoopbackIdentity:
    """Make the CA (once) and a server certificate (again when it is missing or near its end) in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    now = now or dt.datetime.now(dt.timezone.utc)
    ca_path, ca_key_path = folder / CA_FILE, folder / CA_KEY_FILE
    if ca_path.exists() and ca_key_path.exists():
        ca_certificate = x509.load_pem_x509_certificate(ca_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "kyso loopback CA (this computer only)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kyso"),
        ])
        permitted = [x509.DNSName(n) for n in LOOPBACK_NAMES] + [
            x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")), x509.IPAddress(ipaddress.ip_network("::1/128"))]
        ca_certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(ca_key_path, _pem_key(ca_key))
        ca_path.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
        (folder / SERVER_FILE).unlink(missing_ok=True)  # a new CA: the old server certificate is worthless
    server_path, server_key_path = folder / SERVER_FILE, folder / SERVER_KEY_FILE
    if server_path.exists() and server_key_path.exists():
        server = x509.load_pem_x509_certificate(server_path.read_bytes())
        if server.issuer == ca_certificate.subject and server.not_valid_after_utc - RENEW_BEFORE > now:
            return LoopbackIdentity(ca_path, server_path, server_key_path)
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(n) for n in LOOPBACK_NAMES] + [
        x509.IPAddress(ipaddress.ip_address(a)) for a in LOOPBACK_ADDRESSES]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_certificate.subject).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(server_key_path, _pem_key(server_key))
    server_path.write_bytes(server.public_bytes(serialization.Encoding.PEM)
                            + ca_certificate.public_bytes(serialization.Encoding.PEM))
    return LoopbackIdentity(ca_path, server_path, server_key_path)
