"""The errors of the certificate authority. Every failure a caller of `ca` sees is one of these.

Messages are Vietnamese then English (`str(error)`), since administrators read them; `.english` and
`.vietnamese` hold each half. Third-party exceptions (cryptography, asn1crypto, SQLAlchemy) are translated
here, at the package boundary, never passed through.
"""

from __future__ import annotations


class CaError(Exception):
    """Base of every error raised by `ca`."""

    def __init__(self, vietnamese: str, english: str):
        super().__init__(f"{vietnamese} / {english}")
        self.vietnamese = vietnamese
        self.english = english


class RequestRejected(CaError):
    """A certificate request was refused: bad CSR, weak key, subject outside the profile, bad validity."""


class InvalidCsr(RequestRejected):
    """The PKCS#10 request cannot be read or its own signature does not verify."""


class UnknownCertificate(CaError):
    """No certificate with this serial number was issued by this authority."""


class UnknownAuthority(CaError):
    """No CA of this name exists in this PKI."""


class SigningFailed(CaError):
    """The CA key could not sign (token error, unsupported key)."""


class StorageError(CaError):
    """The database failed or is not migrated."""


class AlreadyInitialised(CaError):
    """The PKI already exists in this place."""
