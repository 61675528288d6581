"""Library errors become service errors here, at the edge of the view that called the library.

STYLE.md: one error hierarchy per package; only `kyso/` and `service/` turn errors into exit codes and HTTP
answers. Each library error keeps its own Vietnamese and English message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from service import errors


def _split(message: str) -> tuple[str, str]:
    """"tiếng Việt / English" (the signer's and verifier's style) into its two halves."""
    vi, sep, en = message.partition(" / ")
    return (vi, en) if sep else (message, message)


def _ledger_error(exc) -> errors.ServiceError:
    from ledger import errors as ledger_errors

    mapping = [
        (ledger_errors.UnknownDocument, errors.NotFound),
        (ledger_errors.UnknownAgency, errors.BadRequest),
        (ledger_errors.UnknownCertificate, errors.NotFound),
        (ledger_errors.UnknownRecord, errors.NotFound),
        (ledger_errors.UnknownOfficial, errors.NotFound),
        (ledger_errors.DuplicateDocumentNumber, errors.Conflict),
        (ledger_errors.Conflict, errors.Conflict),
        (ledger_errors.InvalidValue, errors.BadRequest),
        (ledger_errors.RosterOutsideAgency, errors.Forbidden),
        (ledger_errors.RosterImportError, errors.BadRequest),
        (ledger_errors.StoreUnavailable, errors.ServiceUnavailable),
    ]
    for kind, target in mapping:
        if isinstance(exc, kind):
            detail = {}
            if isinstance(exc, ledger_errors.RosterImportError):  # RosterOutsideAgency too
                detail = {
                    "problems": [
                        {"line": p.line, "column": p.column, "message": p.en, "message_vi": p.vi} for p in exc.problems
                    ]
                }
            return target(exc.vi, exc.en, detail=detail)
    return errors.ServiceError(exc.vi, exc.en)


def _signer_error(exc) -> errors.ServiceError:
    from signer import errors as signer_errors

    vi, en = _split(exc.message)
    mapping = [
        (signer_errors.DocumentTooComplex, errors.DocumentTooComplex),
        (signer_errors.DocumentError, errors.NotAPdf if isinstance(exc, signer_errors.NotAPdf) else errors.BadRequest),
        (signer_errors.AppearanceError, errors.BadRequest),
        (signer_errors.CertificateError, errors.PolicyRefused),
        (signer_errors.OrderError, errors.PolicyRefused),
        (signer_errors.NumberingError, errors.Conflict),
        (signer_errors.StateAlreadyUsed, errors.Conflict),
        (signer_errors.SignatureValueMismatch, errors.SignatureMismatch),
        (signer_errors.SessionError, errors.BadRequest),
        (signer_errors.TimestampError, errors.UpstreamFailure),
        (signer_errors.ValidationDataError, errors.UpstreamFailure),
    ]
    for kind, target in mapping:
        if isinstance(exc, kind):
            error = target(vi, en)
            error.detail = {"reason": type(exc).__name__}
            return error
    if type(exc).__name__ == "RequestError":
        return errors.BadRequest(vi, en, detail={"reason": "RequestError"})
    return errors.ServiceError(vi, en)


def _ca_error(exc) -> errors.ServiceError:
    from ca import errors as ca_errors

    mapping = [
        (ca_errors.RequestRejected, errors.BadRequest),
        (ca_errors.UnknownCertificate, errors.NotFound),
        (ca_errors.UnknownAuthority, errors.NotFound),
    ]
    for kind, target in mapping:
        if isinstance(exc, kind):
            return target(exc.vietnamese, exc.english)
    return errors.ServiceError(exc.vietnamese, exc.english)


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Translate ledger, signer and ca errors raised inside the block."""
    from ca.errors import CaError
    from ledger.errors import LedgerError
    from signer.errors import SignerError

    try:
        yield
    except LedgerError as exc:
        raise _ledger_error(exc) from exc
    except SignerError as exc:
        raise _signer_error(exc) from exc
    except CaError as exc:
        raise _ca_error(exc) from exc
