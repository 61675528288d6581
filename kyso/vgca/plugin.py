"""The plugin endpoint's work: download the document, sign it with the Decree 30 layout of the endpoint
through the token bridge (consent, PIN, audit), upload it, and answer in the plugin's shape.

This composition needs both `signer` and `token_bridge`, which may not import each other (DESIGN.md), so it
lives in kyso/. Every signature goes through `Bridge.sign`: the consent dialog shows the document's name,
its SHA-256, the kind of signature, the number and date for SignIssued, and the calling origin; a batch
(SignFiles) asks once for the whole list. Errors end as `PluginError` with a non-zero `Status`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from kyso.vgca.protocol import (
    LITERAL_BODIES,
    SIGNING_KINDS,
    BatchRequest,
    DocumentRequest,
    Endpoint,
    PluginError,
    PluginStatus,
    VerifyRequest,
    check_literal,
)
from kyso.vgca.transfer import Credentials, Limits, UrlPolicy, download, file_name_of, upload

VERSION = "kyso-vgca-1.0"
_DOC_NUMBER = re.compile(r"^\s*(\d{1,6})\s*/\s*(\S.{0,100})$")
VIETNAM_OFFSET = dt.timezone(dt.timedelta(hours=7))


@dataclass(frozen=True)
class Caller:
    origin: str | None  # the WebSocket Origin header (already checked against allowed_origins)
    client: str = ""


@dataclass(frozen=True)
class SignedRecord:
    """What the ledger reporter gets for each signature made through the plugin (rate tracking)."""

    kind: str
    pdf: bytes
    file_name: str
    origin: str | None
    certificate_sha256: str
    document_number: str | None
    document_date: str


class BatchConsent:
    """Wraps the user's consent prompt: a batch is asked once, then each of its signatures passes without a
    second dialog, only when its description is exactly one the user agreed to (used once)."""

    def __init__(self, prompt):
        self.prompt = prompt
        self._approved: set[str] = set()
        self._lock = threading.Lock()

    def approve_batch(self, request, descriptions: list[str]) -> bool:
        if not self.prompt.ask_consent(request):
            return False
        with self._lock:
            self._approved.update(descriptions)
        return True

    def withdraw(self, descriptions: list[str]) -> None:
        with self._lock:
            self._approved.difference_update(descriptions)

    def ask_consent(self, request) -> bool:
        with self._lock:
            if request.description in self._approved:
                self._approved.discard(request.description)
                return True
        return self.prompt.ask_consent(request)


class _BridgeKey:
    """A `DigestSigner` whose every signature is `Bridge.sign` (consent, PIN, validity check, audit)."""

    def __init__(self, bridge, entry, *, description: str, caller: Caller):
        self.bridge, self.entry, self.description, self.caller = bridge, entry, description, caller

    def public_key_info(self):
        return self.entry.certificate.public_key

    def sign_digest(self, digest, *, digest_algorithm, scheme):
        from token_bridge.signing import Requester, SignatureRequest

        request = SignatureRequest(certificate_id=self.entry.certificate_id, digest=digest,
                                   digest_algorithm=digest_algorithm, scheme=scheme, description=self.description)
        result = self.bridge.sign(request, requester=Requester(origin=self.caller.origin, client=self.caller.client))
        return result.signature


class _GivenNumber:
    """Decree 30 art. 15: the document system numbers the document; SignIssued writes the number it sends."""

    def __init__(self, number: int):
        self.number = number

    def allocate(self, agency_code: str, year: int, series: str) -> int:
        return self.number


@dataclass
class PluginEndpoint:
    """Answers one frame of one endpoint. Built once per `kyso bridge serve --vgca`."""

    bridge: object  # token_bridge.signing.Bridge whose consent is a BatchConsent
    environment: object  # signer.SigningEnvironment, shared (one timestamper); `numbers` set per SignIssued
    level: object  # signer.PadesLevel
    signature_image: object | None = None  # signer.StampImage
    seal_image: object | None = None
    seal_diameter_mm: float | None = None
    allowed_hosts: frozenset[str] = frozenset()
    limits: Limits = field(default_factory=Limits)
    personal_certificate: str | None = None  # certificate id prefix, when the tokens hold several
    agency_certificate: str | None = None
    verify: Callable[[bytes, str], object] | None = None  # (pdf, name) -> verifier FileReport
    report: Callable[[SignedRecord], None] | None = None  # the ledger reporter (rate tracking)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    # One signature at a time (the bridge asks one consent at a time anyway): the environment's `numbers` is
    # the number of the SignIssued being signed.
    _signing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, endpoint: Endpoint, frame: str, caller: Caller) -> dict:
        """The JSON answer for `frame` at `endpoint`; never raises for a bad request (a Status says why)."""
        try:
            return self._answer(endpoint, frame, caller)
        except PluginError as error:
            return error.to_answer()

    def _answer(self, endpoint: Endpoint, frame: str, caller: Caller) -> dict:
        if endpoint in LITERAL_BODIES:
            check_literal(endpoint, frame)
        if endpoint is Endpoint.GET_VERSION:
            return {"Status": 0, "Message": "", "Version": VERSION}
        if endpoint is Endpoint.CONFIG:
            return {"Status": 0, "Message": "", "Version": VERSION, "Endpoints": [e.value for e in Endpoint
                                                                               if e not in _UNSUPPORTED]}
        if endpoint is Endpoint.GET_LICENSE_REQUEST:
            return {"Status": 0, "Message": "kyso là phần mềm mở, không cần giấy phép / kyso is open source: "
                                            "no licence is needed", "LicenseRequest": ""}
        if endpoint is Endpoint.GET_CERT_INFO:
            return self._cert_info()
        if endpoint in _UNSUPPORTED:
            raise PluginError(PluginStatus.NOT_SUPPORTED, _UNSUPPORTED[endpoint])
        if endpoint in SIGNING_KINDS:
            return self._sign_document(endpoint, DocumentRequest.from_frame(frame), caller)
        if endpoint is Endpoint.SIGN_FILES:
            return self._sign_files(BatchRequest.from_frame(frame), caller)
        if endpoint is Endpoint.VERIFY_PDF:
            return self._verify(VerifyRequest.from_frame(frame), caller)
        raise PluginError(PluginStatus.UNKNOWN_ENDPOINT, f"không có chức năng {endpoint.value} / "
                                                         f"unknown endpoint {endpoint.value}")

    # -- certificates ----------------------------------------------------------------------------------

    def _entry(self, kind: str):
        from token_bridge.errors import TokenBridgeError

        wanted = "personal" if kind == "approve" else "agency"
        prefix = self.personal_certificate if wanted == "personal" else self.agency_certificate
        try:
            entries = [e for e in self.bridge.certificates() if e.kind == wanted]
        except TokenBridgeError as error:
            raise _from_bridge_error(error) from error
        if prefix:
            entries = [e for e in entries if e.certificate_id.startswith(prefix.lower())]
            if not entries:
                # hot-plug: a token put back is only seen after the library re-initialises (SoftHSM, most
                # vendor modules); sessions recover by logging in again (token_bridge.session)
                try:
                    for module in self.bridge.modules:
                        module.rescan()
                    entries = [e for e in self.bridge.certificates()
                               if e.kind == wanted and e.certificate_id.startswith(prefix.lower())]
                except TokenBridgeError as error:
                    raise _from_bridge_error(error) from error
        label_vi = "cá nhân" if wanted == "personal" else "của cơ quan (con dấu)"
        label_en = "personal" if wanted == "personal" else "agency (seal)"
        if not entries and prefix:
            raise PluginError(PluginStatus.TOKEN_NOT_PRESENT,
                              f"không thấy thiết bị chứa chứng thư số {label_vi} đã chọn ({prefix[:16]}): hãy cắm "
                              f"thiết bị ký số / the token with the chosen {label_en} certificate ({prefix[:16]}) is not "
                              f"present: insert the token")
        if not entries:
            raise PluginError(PluginStatus.NO_CERTIFICATE,
                              f"không thấy chứng thư số {label_vi} trên thiết bị nào: hãy cắm thiết bị ký số / "
                              f"no {label_en} certificate on any token: insert the token")
        if len(entries) > 1:
            key = "vgca_personal_certificate" if wanted == "personal" else "vgca_agency_certificate"
            raise PluginError(PluginStatus.NO_CERTIFICATE,
                              f"có {len(entries)} chứng thư số {label_vi}: hãy chọn một bằng [bridge] {key} / "
                              f"{len(entries)} {label_en} certificates: choose one with [bridge] {key}")
        return entries[0]

    def _cert_info(self) -> dict:
        from token_bridge.errors import TokenBridgeError

        try:
            entries = self.bridge.certificates()
        except TokenBridgeError as error:
            raise _from_bridge_error(error) from error
        if not entries and prefix:
            raise PluginError(PluginStatus.TOKEN_NOT_PRESENT,
                              f"không thấy thiết bị chứa chứng thư số {label_vi} đã chọn ({prefix[:16]}): hãy cắm "
                              f"thiết bị ký số / the token with the chosen {label_en} certificate ({prefix[:16]}) is not "
                              f"present: insert the token")
        if not entries:
            raise PluginError(PluginStatus.NO_CERTIFICATE, "không thấy chứng thư số: hãy cắm thiết bị ký số / "
                                                          "no certificate: insert the token")
        try:
            chosen = self._entry("approve")
        except PluginError:
            chosen = entries[0]
        return {"Status": 0, "Message": "", "CertInfo": _cert_json(chosen),
                "Certificates": [_cert_json(e) for e in entries]}

    # -- signing ---------------------------------------------------------------------------------------

    def _sign_request(self, kind: str, request: DocumentRequest, entry):
        """The signer's request for `kind`, plus (number, allocator, document date) for issue."""
        from signer import CopyForm, SignatureKind, SignatureRequest
        from signer.errors import SignerError

        today = self.clock().astimezone(VIETNAM_OFFSET)
        number_text, numbers = None, None
        try:
            if kind == "approve":
                if self.signature_image is None:
                    raise PluginError(PluginStatus.POLICY_REFUSED,
                                      "chưa có ảnh chữ ký: đặt [bridge] vgca_signature_image / no signature image: "
                                      "set [bridge] vgca_signature_image")
                sign_request = SignatureRequest(kind=SignatureKind.APPROVE, level=self.level,
                                                signature_image=self.signature_image)
            elif kind == "issue":
                if self.seal_image is None:
                    raise PluginError(PluginStatus.POLICY_REFUSED,
                                      "chưa có ảnh con dấu: đặt [bridge] vgca_seal_image / no seal image: "
                                      "set [bridge] vgca_seal_image")
                match = _DOC_NUMBER.match(request.doc_number or "")
                if not match or int(match.group(1)) < 1:
                    raise PluginError(PluginStatus.MALFORMED_REQUEST,
                                      "SignIssued cần DocNumber dạng số/ký hiệu, ví dụ 15/QĐ-UBND / SignIssued needs "
                                      "DocNumber as number/notation, e.g. 15/QĐ-UBND")
                if request.issued_date:
                    issued = _parse_date(request.issued_date)
                    if issued.astimezone(VIETNAM_OFFSET).date() != today.date():
                        raise PluginError(
                            PluginStatus.MALFORMED_REQUEST,
                            f"IssuedDate {request.issued_date} không phải hôm nay ({today.date().isoformat()}): "
                            f"ngày ban hành ghi trên văn bản là ngày ký / IssuedDate {request.issued_date} is not "
                            f"today ({today.date().isoformat()}): the issue date written is the signing day")
                number_text = f"{int(match.group(1)):02d}/{match.group(2).strip()}"
                numbers = _GivenNumber(int(match.group(1)))
                agency = entry.identity.identifiers[0].value if entry.identity.identifiers else "vgca"
                sign_request = SignatureRequest(kind=SignatureKind.ISSUE, level=self.level,
                                                seal_image=self.seal_image, seal_diameter_mm=self.seal_diameter_mm,
                                                agency_code=agency, series=match.group(2).strip())
            elif kind == "incoming":
                match = re.match(r"^\s*(\d{1,6})", request.doc_number or "")
                if not match or int(match.group(1)) < 1:
                    raise PluginError(PluginStatus.MALFORMED_REQUEST,
                                      "SignIncome cần DocNumber là số đến, ví dụ 125 / SignIncome needs DocNumber, "
                                      "the incoming number, e.g. 125")
                number_text = match.group(1)
                sign_request = SignatureRequest(kind=SignatureKind.INCOMING, level=self.level,
                                                incoming_number=int(match.group(1)))
            elif kind == "appendix":
                if not request.doc_number:
                    raise PluginError(PluginStatus.MALFORMED_REQUEST,
                                      "SignAppendix cần DocNumber của văn bản chính, ví dụ 15/QĐ-UBND / SignAppendix "
                                      "needs the main document's DocNumber, e.g. 15/QĐ-UBND")
                number_text = request.doc_number
                sign_request = SignatureRequest(kind=SignatureKind.APPENDIX, level=self.level,
                                                notation=request.doc_number)
            else:  # copy
                number_text = request.doc_number
                agency_name = entry.identity.organization or entry.identity.common_name or "Cơ quan"
                sign_request = SignatureRequest(kind=SignatureKind.COPY, level=self.level,
                                                copy_form=CopyForm.SAO_Y, copying_agency=agency_name)
        except SignerError as error:
            raise PluginError(PluginStatus.POLICY_REFUSED, str(error)) from error
        return sign_request, number_text, numbers

    def _sign_document(self, endpoint: Endpoint, request: DocumentRequest, caller: Caller) -> dict:
        kind = SIGNING_KINDS[endpoint]
        policy = UrlPolicy(caller.origin, self.allowed_hosts)
        policy.check(request.file_url, field="FileName")
        policy.check(request.upload_url, field="FileUploadHandler")
        credentials = Credentials(request.session_id, request.jwt_token)
        entry = self._entry(kind)
        sign_request, number_text, numbers = self._sign_request(kind, request, entry)
        pdf = download(request.file_url, policy=policy, credentials=credentials, limits=self.limits)
        name = file_name_of(request.file_url)
        description = _describe(kind, name, pdf, number_text, caller,
                                today=self.clock().astimezone(VIETNAM_OFFSET).date())
        signed, moment = self._sign_pdf(pdf, entry=entry, request=sign_request, numbers=numbers,
                                        description=description, caller=caller)
        uploaded = upload(request.upload_url, signed, file_name=name, metadata=request.metadata, policy=policy,
                          credentials=credentials, limits=self.limits)
        document_date = moment.astimezone(VIETNAM_OFFSET).isoformat(timespec="seconds")
        self._report(SignedRecord(kind=kind, pdf=signed, file_name=name, origin=caller.origin,
                                  certificate_sha256=entry.certificate_id, document_number=number_text,
                                  document_date=document_date))
        return {"Status": 0, "Message": "", "FileName": uploaded.file_name, "FileServer": uploaded.file_server,
                "DocumentNumber": number_text or "", "DocumentDate": document_date}

    def _sign_pdf(self, pdf: bytes, *, entry, request, numbers, description: str, caller: Caller):
        from signer import sign_pdf
        from signer.errors import CertificateError, DocumentError, OrderError, SignerError
        from token_bridge.errors import TokenBridgeError

        if not pdf.lstrip()[:5] == b"%PDF-":
            raise PluginError(PluginStatus.DOWNLOAD_FAILED, "tệp tải về không phải PDF / the downloaded file is not "
                                                           "a PDF")
        key = _BridgeKey(self.bridge, entry, description=description, caller=caller)
        chain = [c for c in entry.chain if c.self_signed not in ("maybe", "yes")]
        try:
            with self._signing:
                self.environment.numbers = numbers
                try:
                    result = sign_pdf(pdf, key=key, certificate=entry.certificate, chain=chain, request=request,
                                      environment=self.environment)
                finally:
                    self.environment.numbers = None
        except TokenBridgeError as error:
            raise _from_bridge_error(error) from error
        except (CertificateError, OrderError) as error:
            raise PluginError(PluginStatus.POLICY_REFUSED, str(error)) from error
        except DocumentError as error:
            raise PluginError(PluginStatus.DOWNLOAD_FAILED, str(error)) from error
        except SignerError as error:
            raise PluginError(PluginStatus.SIGNING_FAILED, str(error)) from error
        return result.pdf, self.clock()

    def _sign_files(self, batch: BatchRequest, caller: Caller) -> dict:
        """SignFiles: approve every file; consent once for the list; each file answers on its own."""
        from token_bridge.consent import ConsentRequest

        policy = UrlPolicy(caller.origin, self.allowed_hosts)
        policy.check(batch.upload_url, field="FileUploadHandler")
        credentials = Credentials(batch.session_id, batch.jwt_token)
        entry = self._entry("approve")
        sign_request, _, _ = self._sign_request("approve", DocumentRequest(file_url="", upload_url=""), entry)
        results: dict[str, dict] = {}
        downloaded = []
        for item in batch.files:
            try:
                policy.check(item.url, field="URL")
                pdf = download(item.url, policy=policy, credentials=credentials, limits=self.limits, field="URL")
                name = item.file_name or file_name_of(item.url)
                downloaded.append((item, name, pdf, _describe("approve", name, pdf, None, caller)))
            except PluginError as error:
                results[item.file_id] = _file_answer(item, error.status, error.message)
        descriptions = [d for _, _, _, d in downloaded]
        if downloaded:
            listing = "; ".join(f"{name[:60]} (SHA-256 {hashlib.sha256(pdf).hexdigest()[:16]}…)"
                                for _, name, pdf, _ in downloaded)
            consent = ConsentRequest(
                description=f"ký duyệt {len(downloaded)} văn bản / approve {len(downloaded)} documents: {listing}",
                origin=caller.origin or "local application", signer=entry.identity.common_name or "",
                certificate_kind=entry.kind, token_label=entry.token_label, digest_algorithm="sha256",
                signature_algorithm=entry.signature_schemes[0].value)
            if not self.bridge.consent.approve_batch(consent, descriptions):
                refused = PluginError(PluginStatus.USER_REFUSED, "người dùng đã từ chối ký / the user refused to sign")
                for item, _, _, _ in downloaded:
                    results[item.file_id] = _file_answer(item, refused.status, refused.message)
                downloaded = []
        try:
            for item, name, pdf, description in downloaded:
                try:
                    signed, moment = self._sign_pdf(pdf, entry=entry, request=sign_request, numbers=None,
                                                    description=description, caller=caller)
                    uploaded = upload(batch.upload_url, signed, file_name=name, metadata=(), policy=policy,
                                      credentials=credentials, limits=self.limits)
                    self._report(SignedRecord(kind="approve", pdf=signed, file_name=name, origin=caller.origin,
                                              certificate_sha256=entry.certificate_id, document_number=None,
                                              document_date=moment.astimezone(VIETNAM_OFFSET).isoformat(
                                                  timespec="seconds")))
                    results[item.file_id] = {"FileID": item.file_id, "Status": 0, "FileName": uploaded.file_name,
                                             "FileServer": uploaded.file_server, "Message": ""}
                except PluginError as error:
                    results[item.file_id] = _file_answer(item, error.status, error.message)
        finally:
            self.bridge.consent.withdraw(descriptions)
        files = [results[item.file_id] for item in batch.files]
        failed = [f for f in files if f["Status"] != 0]
        if not failed:
            status = PluginStatus.OK
        elif len(failed) == len(files) and len({f["Status"] for f in failed}) == 1:
            status = failed[0]["Status"]  # every file for the same reason (a refused consent): say that reason
        else:
            status = PluginStatus.SIGNING_FAILED
        message = "" if not failed else (f"{len(failed)}/{len(files)} tệp không ký được / "
                                         f"{len(failed)} of {len(files)} files were not signed")
        return {"Status": int(status), "Message": message, "Files": files}

    def _report(self, record: SignedRecord) -> None:
        if self.report is not None:
            self.report(record)  # queues locally when the service is down: never fails the signature

    # -- verifying -------------------------------------------------------------------------------------

    def _verify(self, request: VerifyRequest, caller: Caller) -> dict:
        if self.verify is None:
            raise PluginError(PluginStatus.NOT_SUPPORTED, "chưa cấu hình kiểm tra chữ ký / verification is not set up")
        policy = UrlPolicy(caller.origin, self.allowed_hosts)
        pdf = download(request.file_url, policy=policy, credentials=Credentials(request.session_id),
                       limits=self.limits)
        report = self.verify(pdf, file_name_of(request.file_url))
        return verification_answer(report)


_UNSUPPORTED = {
    Endpoint.COMMENT: "kyso chưa hỗ trợ Comment (ghi chú lên PDF) / kyso does not support Comment (PDF annotations)",
    Endpoint.SIGN_XML: "kyso chưa hỗ trợ SignXML qua cổng này; dùng kyso edxml / SignXML is not supported here",
    Endpoint.SIGN_MSG: "kyso chưa hỗ trợ SignMsg / SignMsg is not supported",
    Endpoint.VERIFY_MSG: "kyso chưa hỗ trợ VerifyMsg / VerifyMsg is not supported",
}


def _parse_date(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PluginError(PluginStatus.MALFORMED_REQUEST,
                          f"IssuedDate {text!r} không phải thời điểm ISO 8601 / IssuedDate {text!r} is not ISO 8601"
                          ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM_OFFSET)  # DOMAIN.md: Vietnam time when no offset is given
    return moment


def _describe(kind: str, name: str, pdf: bytes, number: str | None, caller: Caller, *,
              today: dt.date | None = None) -> str:
    """What the consent dialog shows (token_bridge refuses control characters and more than 2000 chars)."""
    from signer import SignatureKind

    label = SignatureKind(kind).label_vi
    text = f"{label} ({kind}): {name[:200]}, SHA-256 {hashlib.sha256(pdf).hexdigest()}, {len(pdf)} byte"
    if number:
        text += f", số / number {number}"
    if kind == "issue" and today is not None:
        text += f", ngày / date {today.isoformat()}"
    return text + f", từ / from {caller.origin or 'local application'}"


def _file_answer(item, status: PluginStatus, message: str) -> dict:
    return {"FileID": item.file_id, "Status": int(status), "FileName": item.file_name, "FileServer": "",
            "Message": message}


def _cert_json(entry) -> dict:
    certificate = entry.certificate
    return {
        "Id": entry.certificate_id,
        "Kind": entry.kind,
        "TokenLabel": entry.token_label,
        "Subject": certificate.subject.human_friendly,
        "CommonName": entry.identity.common_name,
        "Serial": format(certificate.serial_number, "X"),
        "Issuer": certificate.issuer.human_friendly,
        "ValidFrom": certificate.not_valid_before.isoformat(),
        "ValidTo": certificate.not_valid_after.isoformat(),
        "Base64": base64.b64encode(certificate.dump()).decode("ascii"),
    }


def verification_answer(report) -> dict:
    """kyso's verifier report in the plugin's shape: Status 0 only when every signature is valid
    (TOTAL_PASSED); 15 otherwise, with the same details."""
    signatures = []
    for signature in report.signatures:
        signer = signature.signer
        signatures.append({
            "Signer": (signer.common_name if signer else None) or "",
            "CertificateSha256": signature.certificate_sha256 or "",
            "SigningTime": signature.signing_time.isoformat() if signature.signing_time else "",
            "SigningTimeSource": signature.signing_time_source.value,
            "Kind": signature.kind.value,
            "Valid": signature.passed,
            "Indication": signature.indication.value,
            "SubIndication": signature.sub_indication.value if signature.sub_indication else None,
            "Messages": [m.text("vi") for m in signature.messages],
        })
    passed = report.indication.value == "TOTAL_PASSED"
    message = "" if passed else {
        "TOTAL_FAILED": "chữ ký không hợp lệ / a signature is invalid",
        "INDETERMINATE": "chưa xác định được hiệu lực chữ ký / the signatures' validity cannot be determined",
        "NO_SIGNATURE_FOUND": "văn bản không có chữ ký số / the document carries no signature",
    }.get(report.indication.value, report.indication.value)
    return {"Status": 0 if passed else int(PluginStatus.NOT_VALID), "Message": message,
            "Indication": report.indication.value, "Signatures": signatures}


def _from_bridge_error(error) -> PluginError:
    code = error.code
    text = f"{error.message_vi} / {error.message_en}"
    status = {
        "consent_refused": PluginStatus.USER_REFUSED,
        "pin_cancelled": PluginStatus.USER_REFUSED,
        "pin_incorrect": PluginStatus.PIN_INCORRECT,
        "pin_final_try_not_confirmed": PluginStatus.PIN_INCORRECT,
        "pin_locked": PluginStatus.PIN_LOCKED,
        # The bridge's back-off after wrong PINs and a refused environment PIN are wrong-PIN answers too; their
        # message says how long to wait / that the PIN must be typed.
        "pin_backoff": PluginStatus.PIN_INCORRECT,
        "pin_env_rejected": PluginStatus.PIN_INCORRECT,
        "token_not_present": PluginStatus.TOKEN_NOT_PRESENT,
        "module_unavailable": PluginStatus.TOKEN_NOT_PRESENT,
        "certificate_not_found": PluginStatus.TOKEN_NOT_PRESENT,
        "key_not_found": PluginStatus.TOKEN_NOT_PRESENT,
        "certificate_not_usable": PluginStatus.POLICY_REFUSED,
        "algorithm_refused": PluginStatus.POLICY_REFUSED,
    }.get(code, PluginStatus.SIGNING_FAILED)
    return PluginError(status, text)
