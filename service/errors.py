"""The service's one error hierarchy. Each error knows its HTTP status, a stable code and a message in
Vietnamese and English (a clerk reads the first, a system integrator the second).

Views raise these; `service.app` turns them into JSON answers. Errors of the libraries (signer, verifier,
ledger, ca) are translated into these at the edge of the view that called them.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message_vi: str, message_en: str, *, detail: dict | None = None):
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        self.detail = detail or {}

    def to_json(self) -> dict:
        body = {"error": self.code, "message": self.message_en, "message_vi": self.message_vi}
        if self.detail:
            body["detail"] = self.detail
        return body


class ServiceConfigError(ServiceError):
    """The service's configuration is wrong (raised before any request)."""

    code = "configuration_error"

    def __init__(self, message: str):
        super().__init__(f"Cấu hình sai: {message}", message)


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class NotAPdf(BadRequest):
    code = "not_a_pdf"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class CsrfFailure(Forbidden):
    code = "csrf_failed"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Gone(ServiceError):
    status = 410
    code = "gone"


class PolicyRefused(ServiceError):
    """The signing policy says no (wrong certificate type, order, revoked, expired...)."""

    status = 422
    code = "policy_refused"


class DocumentTooComplex(ServiceError):
    """A PDF beyond the bounds of `policies.pdf_limits` (decoded bytes, objects, fields, page tree, time),
    or a report too large to keep: refused before it costs more (issue 9)."""

    status = 422
    code = "document_too_complex"


class SignatureMismatch(ServiceError):
    status = 422
    code = "signature_mismatch"


class UpstreamFailure(ServiceError):
    """A part the service depends on (TSA, OCSP) failed; the client may retry."""

    status = 502
    code = "upstream_failure"


class ServiceUnavailable(ServiceError):
    """The database or another part is unreachable for now; the client may retry."""

    status = 503
    code = "unavailable"


class NotAvailable(ServiceError):
    status = 501
    code = "not_available"


class StampImageMissing(ServiceError):
    """A signature that draws an image was prepared without one, and none is stored for its signer."""

    status = 422
    code = "stamp_image_missing"


class TooManyRequests(ServiceError):
    """Login throttling: too many failed logins for this account or this client address."""

    status = 429
    code = "too_many_requests"
