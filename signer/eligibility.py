"""May this certificate make this kind of signature on this document now? Checked before signing.

DOMAIN.md (Decree 68/2024): signing software must check the certificate before signing. Decree 30
arts. 14, 15, 32: agency signatures use the agency's (organisation) certificate, personal signatures a
person's; the issue signature only goes on a document that already carries a valid personal signature.
The signer may not import the verifier, so it asks pyHanko directly, with the explicit trust roots.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime

from asn1crypto import x509

from policies.identity import HolderKind, parse_identity
from signer.environment import SigningEnvironment
from signer.errors import (
    CertificateExpired,
    CertificateKindMismatch,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUntrusted,
    OrderError,
)
from signer.layout import Box
from signer.request import SignatureKind

log = logging.getLogger(__name__)

_HOLDER_VI = {HolderKind.PERSON: "cá nhân", HolderKind.ORGANISATION: "cơ quan, tổ chức",
              HolderKind.UNKNOWN: "không xác định"}
_HOLDER_EN = {HolderKind.PERSON: "a personal", HolderKind.ORGANISATION: "an organisation",
              HolderKind.UNKNOWN: "an unidentified"}


def check_holder_kind(certificate: x509.Certificate, kind: SignatureKind) -> None:
    holder = parse_identity(certificate).holder_kind
    if holder is not kind.holder_kind:
        raise CertificateKindMismatch(
            f"{kind.label_vi} cần chứng thư số của {_HOLDER_VI[kind.holder_kind]}, chứng thư này của "
            f"{_HOLDER_VI[holder]} / {kind.value} signatures need {_HOLDER_EN[kind.holder_kind]} certificate, "
            f"this one is {_HOLDER_EN[holder]}"
        )


def check_validity_period(certificate: x509.Certificate, moment: datetime) -> None:
    validity = certificate["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if moment > not_after:
        raise CertificateExpired(
            f"chứng thư số đã hết hạn lúc {not_after.isoformat()} / "
            f"the certificate expired at {not_after.isoformat()}"
        )
    if moment < not_before:
        raise CertificateNotYetValid(
            f"chứng thư số chưa có hiệu lực trước {not_before.isoformat()} / "
            f"the certificate is not valid before {not_before.isoformat()}"
        )


async def check_certificate(certificate: x509.Certificate, chain, *, kind: SignatureKind | None,
                      environment: SigningEnvironment, moment: datetime) -> None:
    """Holder kind (unless `kind` is None), validity period, then path to a trust root and revocation
    (unless switched off)."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        ExpiredError,
        InsufficientRevinfoError,
        NotYetValidError,
        PathBuildingError,
        PathValidationError,
        RevokedError,
    )

    if kind is not None:
        check_holder_kind(certificate, kind)
    check_validity_period(certificate, moment)
    fingerprint = hashlib.sha256(certificate.dump()).digest()
    if environment.recently_checked(fingerprint, moment):
        return
    if not environment.trust_roots:
        raise CertificateUntrusted(
            "chưa cấu hình chứng thư gốc tin cậy / no trust roots are configured for signing"
        )
    # "off": certvalidator has no switch to skip revocation; without fetching there is nothing to check.
    fetch = False if environment.revocation_mode == "off" else None
    context = environment.validation_context(moment=moment, extra_certs=chain, allow_fetching=fetch)
    validator = CertificateValidator(certificate, intermediate_certs=list(chain), validation_context=context)
    try:
        await validator.async_validate_usage({"digital_signature"}, extended_optional=True)
    except RevokedError as exc:
        raise CertificateRevoked(
            f"chứng thư số đã bị thu hồi / the certificate has been revoked: {exc}"
        ) from exc
    except ExpiredError as exc:
        raise CertificateExpired(f"chứng thư trong chuỗi đã hết hạn / a chain certificate expired: {exc}") from exc
    except NotYetValidError as exc:
        raise CertificateNotYetValid(f"chứng thư chưa có hiệu lực / not yet valid: {exc}") from exc
    except InsufficientRevinfoError as exc:
        raise CertificateUntrusted(
            f"không kiểm tra được tình trạng thu hồi / revocation status unavailable: {exc}"
        ) from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise CertificateUntrusted(
            f"chứng thư số không dẫn tới chứng thư gốc tin cậy / the certificate does not chain to a trust root: {exc}"
        ) from exc
    except Exception as exc:  # certvalidator raises assorted errors on malformed input
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise CertificateUntrusted(f"không kiểm tra được chứng thư số / cannot check the certificate: {exc}") from exc
    finally:
        await context.aclose()  # release the HTTP session pyHanko opened for fetching
    environment.remember_checked(fingerprint, moment)


async def find_valid_personal_signature(reader, environment: SigningEnvironment) -> Box:
    """The widget box of the last valid personal signature; OrderError when there is none.

    "Valid" is pyHanko's bottom line (intact, trusted on the explicit roots, no disallowed change)."""
    from pyhanko.sign.validation import async_validate_pdf_signature

    signatures = list(reader.embedded_regular_signatures)
    if not signatures:
        raise OrderError(
            "văn bản chưa có chữ ký số cá nhân của người có thẩm quyền: không được ký phát hành / "
            "the document carries no personal signature yet: it cannot be issued"
        )
    reasons = []
    for embedded in reversed(signatures):
        certificate = embedded.signer_cert
        if parse_identity(certificate).holder_kind is not HolderKind.PERSON:
            reasons.append(f"{embedded.field_name}: not a personal certificate")
            continue
        context = environment.validation_context()
        try:
            status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
        except Exception as exc:  # a broken signature must refuse issuing, not crash it
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reasons.append(f"{embedded.field_name}: {exc}")
            continue
        finally:
            await context.aclose()
        if not status.bottom_line:
            reasons.append(f"{embedded.field_name}: {status.summary()}")
            continue
        widget = embedded.sig_field
        if "/Kids" in widget:
            widget = widget["/Kids"][0].get_object()
        x0, y0, x1, y1 = (float(v) for v in widget.get("/Rect", (0, 0, 0, 0)))
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            reasons.append(f"{embedded.field_name}: invisible (no image to place the seal on)")
            continue
        page = _page_index_of(reader, widget)
        rect = Box(page, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        return _drawn_image_box(widget, rect)
    raise OrderError(
        "văn bản không có chữ ký cá nhân hợp lệ, hiển thị của người có thẩm quyền: không được ký phát hành / "
        f"no valid, visible personal signature: the document cannot be issued ({'; '.join(reasons)})"
    )


_IMAGE_DRAW = re.compile(rb"q ([\d.]+) 0 0 ([\d.]+) (-?[\d.]+) (-?[\d.]+) cm /Im1 Do Q")


def _drawn_image_box(widget, rect: Box) -> Box:
    """Where the signature image really is inside the widget: kyso centres the image inside a larger
    named field; the seal must cover the image's left third, not the field's. Other producers' widgets
    are taken whole."""
    try:
        stream = widget["/AP"]["/N"]
        bbox = [float(v) for v in stream.get("/BBox", (0, 0, 0, 0))]
        match = _IMAGE_DRAW.search(stream.data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return rect
    if match is None or "/Matrix" in stream or bbox[:2] != [0.0, 0.0]:
        return rect
    width, height, dx, dy = (float(v) for v in match.groups())
    return Box(rect.page, rect.x0 + dx, rect.y0 + dy, rect.x0 + dx + width, rect.y0 + dy + height)


def _page_index_of(reader, widget) -> int:
    page_ref = widget.get("/P") if hasattr(widget, "get") else None
    if page_ref is None:
        return reader.root["/Pages"]["/Count"] - 1
    target = widget.raw_get("/P")
    for index in range(int(reader.root["/Pages"]["/Count"])):
        ref, _ = reader.find_page_for_modification(index)
        if getattr(target, "reference", None) == ref.reference:
            return index
    return 0
