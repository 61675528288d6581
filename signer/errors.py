"""The signer's error hierarchy. Every refusal says what is wrong in Vietnamese and in English.

Third-party exceptions (pyHanko, asn1crypto, Pillow, pdfminer, HTTP clients) are translated into these at
the package boundary; callers of `signer` catch `SignerError` and nothing else.
"""

from __future__ import annotations


class SignerError(Exception):
    """Base of every signer error. `str()` is "vietnamese / english"."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# The document -----------------------------------------------------------------------------------------
class DocumentError(SignerError):
    """The input is not a PDF the signer can sign."""


class NotAPdf(DocumentError):
    pass


class BrokenPdf(DocumentError):
    pass


class EncryptedPdf(DocumentError):
    pass


class DocumentTooComplex(DocumentError):
    """The document exceeds a bound of `policies.pdf_limits.PdfLimits` (a Flate bomb, a page tree 5,000
    levels deep or looping, thousands of fields); `limit` names which."""

    def __init__(self, message: str, *, limit):
        super().__init__(message)
        self.limit = limit


# Appearance -------------------------------------------------------------------------------------------
class AppearanceError(SignerError):
    """The appearance cannot be drawn: a bad image, a missing place, a character the font lacks."""


class ImageError(AppearanceError):
    pass


class PlaceNotFound(AppearanceError):
    pass


# Certificates and policy ------------------------------------------------------------------------------
class CertificateError(SignerError):
    """The signer's certificate may not make this signature now."""


class CertificateExpired(CertificateError):
    pass


class CertificateNotYetValid(CertificateError):
    pass


class CertificateRevoked(CertificateError):
    pass


class CertificateUntrusted(CertificateError):
    pass


class CertificateKindMismatch(CertificateError):
    """A personal certificate for an agency signature, or the reverse."""


class KeyMismatch(CertificateError):
    """The key does not belong to the certificate, or cannot make the requested scheme."""


class OrderError(SignerError):
    """Decree 30 order rules: the agency signature needs a valid personal signature first."""


class NumberingError(SignerError):
    """The number allocator failed or returned an unusable number."""


# Prepare / complete -----------------------------------------------------------------------------------
class SessionError(SignerError):
    """A prepare/complete state that cannot be completed."""


class StateInvalid(SessionError):
    pass


class StateAlreadyUsed(SessionError):
    pass


class SignatureValueMismatch(SessionError):
    """The signature value is not over the prepared digest, or not by the certificate's key."""


# Services ---------------------------------------------------------------------------------------------
class TimestampError(SignerError):
    """The time-stamping authority did not give a usable timestamp."""


class ValidationDataError(SignerError):
    """Validation data (chains, CRLs, OCSP) for B-LT / B-LTA could not be gathered."""
