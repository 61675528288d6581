"""PAdES signatures (B-B, B-T, B-LT, B-LTA) as incremental updates, split into prepare and complete.

`prepare` checks the certificate and the order rules, lays out the appearance, writes the document with a
reserved /Contents placeholder (`bytes_reserved` is computed, never found by a dry run: DESIGN.md pitfall)
and returns the digest of the CMS signed attributes. `complete` checks the signature value against that
digest and the certificate's key, builds the CMS (with the RFC 3161 signature timestamp for B-T and up),
fills the placeholder, then adds validation data (B-LT) and a document timestamp (B-LTA). `sign_pdf` is both
steps with a key at hand. Every earlier signature stays valid: nothing but a new signature field (with its
widgets) and, later, the DSS and document timestamp are added.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import cms, x509

from policies.identity import parse_identity
from policies.keys import DigestSigner
from policies.pdf_limits import Deadline, PdfLimits
from signer import appearance as drawings
from signer import guard, placement
from signer.cms import (
    certificate_store,
    check_scheme,
    default_scheme,
    signature_mechanism,
    verify_signature_value,
)
from signer.eligibility import check_certificate
from signer.environment import VIETNAM, SigningEnvironment
from signer.errors import (
    BrokenPdf,
    DocumentError,
    DocumentTooComplex,
    EncryptedPdf,
    KeyMismatch,
    NotAPdf,
    SignerError,
    StateAlreadyUsed,
    TimestampError,
    ValidationDataError,
)
from signer.request import IssuedNumber, PadesLevel, SignatureKind, SignatureRequest
from signer.session import SigningState, UsedStates

@dataclass(frozen=True)
class PreparedSignature:
    """What the client's key must sign (`digest`, with `digest_algorithm` and `scheme`), and the state to
    keep until `complete`."""

    state: SigningState
    description: str

    @property
    def digest(self) -> bytes:
        return self.state.digest_to_sign

    @property
    def digest_algorithm(self):
        return self.state.digest_algorithm

    @property
    def scheme(self):
        return self.state.scheme

    @property
    def number(self) -> IssuedNumber | None:
        return self.state.number


@dataclass(frozen=True)
class SignedDocument:
    pdf: bytes = field(repr=False)  # never dump a document into a log or a task repr
    field_name: str
    kind: SignatureKind
    level: PadesLevel
    signing_time: datetime  # the claimed time, in Vietnam time
    number: IssuedNumber | None = None


# Opening ----------------------------------------------------------------------------------------------
def open_document(document: bytes, *, limits: PdfLimits | None = None, deadline: Deadline | None = None):
    """An incremental writer over `document`, or a precise refusal (not a PDF, broken, encrypted, or over
    the `limits`: issue 9). Nothing reads the document before `signer.guard` has scanned it."""
    from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfError

    if not isinstance(document, (bytes, bytearray)) or b"%PDF-" not in bytes(document[:1024]):
        raise NotAPdf("tệp không phải là PDF / the file is not a PDF")
    limits = limits or PdfLimits()
    deadline = deadline or limits.deadline()
    document = bytes(document)
    try:
        writer = guard.guarded_writer(document, limits, deadline)
    except PdfDecodeLimitError as exc:
        raise DocumentTooComplex(f"tệp PDF vượt giới hạn giải nén / the PDF exceeds the decoding limits: {exc}",
                                 limit=None) from exc
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        raise BrokenPdf(f"tệp PDF bị hỏng / the PDF is broken: {exc}") from exc
    if writer.prev.encrypted:
        raise EncryptedPdf(
            "tệp PDF được mã hóa: hãy gỡ mật khẩu trước khi ký / the PDF is encrypted: remove the password first"
        )
    try:
        guard.check_page_tree(writer.root, limits, deadline)  # before anything recursive descends it
        page_count = int(writer.root["/Pages"]["/Count"])
        if page_count < 1:
            raise ValueError("no pages")
        writer.find_page_for_modification(0)
    except DocumentError:
        raise
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        raise BrokenPdf(f"tệp PDF bị hỏng (cây trang) / the PDF is broken (page tree): {exc}") from exc
    return writer, page_count


def _check_deadline(deadline: Deadline) -> None:
    from policies.pdf_limits import PdfLimitExceeded

    try:
        deadline.check()
    except PdfLimitExceeded as exc:
        raise DocumentTooComplex(str(exc), limit=exc.limit) from exc


# Prepare ----------------------------------------------------------------------------------------------
def _reserve(certificate: x509.Certificate, chain, level: PadesLevel) -> int:
    """Bytes for the hex-encoded CMS: certificates, signature, signed attributes and (B-T) the token."""
    certs = len(certificate.dump()) + sum(len(c.dump()) for c in chain)
    key_bytes = certificate.public_key.bit_size // 8
    estimate = certs + 2 * key_bytes + 3000 + (12000 if level.has_timestamp else 0)
    return 2 * estimate


def _check_not_locked(writer) -> None:
    """A certification signature that allows no change refuses every later signature: say so before any
    layout work (and before an issue number is taken)."""
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import read_certification_data

    try:
        certification = read_certification_data(writer.prev)
    except Exception as exc:  # pyHanko raises assorted errors on malformed /Perms
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenPdf(f"tệp PDF bị hỏng (/Perms) / the PDF is broken (/Perms): {exc}") from exc
    if certification is not None and certification.permission is MDPPerm.NO_CHANGES:
        raise DocumentError(
            "văn bản không cho phép ký thêm: chữ ký chứng nhận cấm mọi thay đổi / "
            "the document cannot take this signature: its certification signature allows no change"
        )


def _field_name(writer, kind: SignatureKind) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, _, _ in enumerate_sig_fields(writer)}
    index = 1
    while f"KySo_{kind.value}_{index}" in taken:
        index += 1
    return f"KySo_{kind.value}_{index}"


def prepare(document: bytes, *, certificate: x509.Certificate, chain=(), request: SignatureRequest,
            environment: SigningEnvironment) -> PreparedSignature:
    """Check, lay out and write the document to be signed; return the digest to sign and the state."""
    return asyncio.run(async_prepare(document, certificate=certificate, chain=tuple(chain), request=request,
                                environment=environment))


async def async_prepare(document, *, certificate, chain=(), request, environment) -> PreparedSignature:
    """`prepare` for callers already inside an event loop."""
    chain = tuple(chain)
    from pyhanko.pdf_utils.form_tools import get_single_field_annot
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.stamp.noop import NoOpStampStyle

    moment = environment.now().astimezone(VIETNAM).replace(microsecond=0)
    deadline = environment.pdf_limits.deadline()
    writer, page_count = open_document(document, limits=environment.pdf_limits, deadline=deadline)
    scheme = request.scheme or default_scheme(certificate)
    check_scheme(certificate, scheme)
    if request.level.has_timestamp and environment.tsa_url is None:
        raise TimestampError(
            f"mức {request.level.value} cần máy chủ dấu thời gian (TSA) / "
            f"level {request.level.value} needs a time-stamping authority"
        )
    await check_certificate(certificate, chain, kind=request.kind, environment=environment, moment=moment)
    _check_not_locked(writer)

    kind = request.kind
    try:
        if kind is SignatureKind.APPROVE:
            plan = placement.plan_approve(document, writer, page_count, request, certificate)
        elif kind is SignatureKind.ISSUE:
            plan = await placement.plan_issue(document, writer, request, environment, moment)
        else:
            plan = placement.plan_text(writer, request, certificate, moment)
    except (PdfError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
        raise BrokenPdf(f"tệp PDF bị hỏng / the PDF is broken: {exc}") from exc
    _check_deadline(deadline)

    field_name = plan.existing_field or request.field_name or _field_name(writer, kind)
    mechanism = signature_mechanism(scheme, request.digest_algorithm)
    external = signers.ExternalSigner(
        signing_cert=certificate, cert_registry=certificate_store(certificate, chain),
        signature_value=bytes(8), signature_mechanism=mechanism, embed_roots=False,
    )
    new_field = None
    if plan.existing_field is None:
        box = plan.main.box
        new_field = fields.SigFieldSpec(
            sig_field_name=field_name, on_page=box.page, box=(box.x0, box.y0, box.x1, box.y1),
            combine_annotation=False,
        )
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name=field_name, md_algorithm=request.digest_algorithm.value,
            subfilter=fields.SigSeedSubFilter.PADES, reason=request.reason, location=request.location,
        ),
        signer=external, stamp_style=NoOpStampStyle(), new_field_spec=new_field,
    )
    try:
        session = pdf_signer.init_signing_session(writer, existing_fields_only=plan.existing_field is not None)
        session.system_time = moment
        tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=_reserve(certificate, chain,
                                                                                         request.level))
        painter = drawings.AppearanceWriter(writer)
        annotation = get_single_field_annot(session.sig_field)
        painter.set_appearance(annotation, plan.main)
        writer.update_container(annotation)
        if plan.extras:
            field_ref = next(ref for name, _, ref in fields.enumerate_sig_fields(writer) if name == field_name)
            for extra in plan.extras:
                painter.add_widget(field_ref, extra)
        prepared, output = tbs.digest_tbs_document()
        signed_attrs = await external.signed_attrs(
            prepared.document_digest, request.digest_algorithm.value,
            attr_settings=PdfCMSSignedAttributes(signing_time=moment),
            use_pades=True, is_pdf_sig=True,
        )
    except PdfError as exc:
        raise BrokenPdf(f"tệp PDF bị hỏng / the PDF is broken: {exc}") from exc
    except SigningError as exc:  # e.g. a certification signature that forbids any further change
        raise DocumentError(f"văn bản không cho phép ký thêm / the document cannot take this signature: {exc}") from exc
    state = SigningState(
        state_id=uuid.uuid4().hex,
        kind=kind,
        level=request.level,
        digest_algorithm=request.digest_algorithm,
        scheme=scheme,
        certificate=certificate.dump(),
        chain=tuple(c.dump() for c in chain),
        document=output.getvalue(),
        reserved_start=prepared.reserved_region_start,
        reserved_end=prepared.reserved_region_end,
        document_digest=prepared.document_digest,
        signed_attributes=signed_attrs.dump(),
        signing_time=moment,
        field_name=field_name,
        number=plan.number,
    )
    identity = parse_identity(certificate)
    description = f"{kind.label_vi} / {kind.value}: {identity.common_name or ''}"
    if plan.number is not None:
        description += f", số {plan.number.notation}"
    return PreparedSignature(state=state, description=description)


# Complete ---------------------------------------------------------------------------------------------
def complete(state: SigningState, signature_value: bytes, *, environment: SigningEnvironment,
             used_states: UsedStates) -> SignedDocument:
    """Embed the signature value into the prepared document; add timestamps and validation data."""
    return asyncio.run(async_complete(state, signature_value, environment=environment, used_states=used_states))


async def async_complete(state, signature_value, *, environment, used_states) -> SignedDocument:
    """`complete` for callers already inside an event loop."""
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.timestamps import TimestampRequestError

    certificate = state.signer_certificate()
    chain = state.chain_certificates()
    verify_signature_value(certificate, state.signed_attributes, signature_value,
                           digest=state.digest_algorithm, scheme=state.scheme)
    external = signers.ExternalSigner(
        signing_cert=certificate, cert_registry=certificate_store(certificate, chain),
        signature_value=signature_value, signature_mechanism=signature_mechanism(state.scheme,
                                                                                  state.digest_algorithm),
        embed_roots=False,
    )
    timestamper = environment.timestamper if state.level.has_timestamp else None
    if state.level.has_timestamp and timestamper is None:
        raise TimestampError(
            f"mức {state.level.value} cần máy chủ dấu thời gian (TSA) / level {state.level.value} needs a TSA"
        )
    try:
        signed_cms = await external.async_sign_prescribed_attributes(
            state.digest_algorithm.value, signed_attrs=cms.CMSAttributes.load(state.signed_attributes),
            timestamper=timestamper,
        )
    except TimestampRequestError as exc:
        raise TimestampError(f"không lấy được dấu thời gian / the TSA failed: {exc}") from exc
    output = io.BytesIO(state.document)
    prepared = PreparedByteRangeDigest(state.document_digest, state.reserved_start, state.reserved_end)
    try:
        prepared.fill_with_cms(output, signed_cms)
    except (SigningError, ValueError) as exc:
        raise KeyMismatch(f"chữ ký lớn hơn chỗ dành sẵn / the signature does not fit its reserved space: {exc}") from exc
    pdf = output.getvalue()
    if state.level.has_validation_data:
        pdf = await _add_validation_data(pdf, state, environment)
    if not used_states.claim(state.state_id):
        raise StateAlreadyUsed(
            "trạng thái ký này đã được dùng để hoàn tất một chữ ký / this signing state was already completed"
        )
    return SignedDocument(pdf=pdf, field_name=state.field_name, kind=state.kind, level=state.level,
                          signing_time=state.signing_time, number=state.number)


async def _add_validation_data(pdf: bytes, state: SigningState, environment: SigningEnvironment) -> bytes:
    """B-LT: the chain, CRLs and OCSP responses in the DSS; B-LTA: then a document timestamp over it all."""
    from pyhanko.sign.timestamps import TimestampRequestError

    from signer.ltv import add_validation_data

    context = environment.validation_context(for_embedding=True, extra_certs=state.chain_certificates())
    try:
        # Every signature of the document (the earlier approval too) and every timestamp's TSA chain.
        pdf = await add_validation_data(
            pdf, context, digest_algorithm=state.digest_algorithm.value,
            document_timestamper=environment.timestamper if state.level is PadesLevel.B_LTA else None)
    except TimestampRequestError as exc:
        raise TimestampError(f"không lấy được dấu thời gian tài liệu / the document timestamp failed: {exc}") from exc
    except SignerError:
        raise
    except Exception as exc:  # pyHanko/certvalidator raise many kinds here; the cause stays chained
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ValidationDataError(
            f"không thu thập được dữ liệu kiểm tra (chuỗi, CRL, OCSP) / cannot gather validation data: {exc}"
        ) from exc
    finally:
        await context.aclose()
    return pdf


# Both at once -----------------------------------------------------------------------------------------
def sign_pdf(document: bytes, *, key: DigestSigner, certificate: x509.Certificate, chain=(),
             request: SignatureRequest, environment: SigningEnvironment,
             used_states: UsedStates | None = None) -> SignedDocument:
    """Sign a PDF with a key at hand (a token, the bridge, an in-memory test key)."""
    from signer.session import InMemoryUsedStates

    if key.public_key_info().dump() != certificate.public_key.dump():
        raise KeyMismatch("khóa không khớp với chứng thư số / the key does not belong to the certificate")
    prepared = prepare(document, certificate=certificate, chain=chain, request=request, environment=environment)
    value = key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm, scheme=prepared.scheme)
    return complete(prepared.state, value, environment=environment,
                    used_states=used_states if used_states is not None else InMemoryUsedStates())
