"""Verifying a received package: the package signature, then every attached PDF, then the header against them.

Order, and why (W3C XML Signature best practices; "see what is signed"):
1. size, well-formedness, no DTD or entities (edxml.parsing);
2. exactly one `ds:Signature`, placed in `edXMLHeader`, with exactly one `Reference URI=""` whose transforms
   are enveloped-signature then c14n: the signature must cover the whole envelope (a reference to an Id, a
   second reference or signature, or any other transform is signature wrapping and is refused);
3. the algorithm policy (RSA-SHA1 accepted with a warning until `legacy_sha1_until`);
4. signxml checks digest and signature value against the certificate the signature carries;
5. the verifier judges that certificate's chain, revocation and algorithms at the validation time;
6. only then is the envelope read, and only from the tree signxml returns as signed;
7. each attachment goes through the verifier; the header's number/notation and date must match what the
   agency-signed PDF shows (edxml.matching).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timezone

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from lxml import etree
from signxml import DigestAlgorithm as XmlDigest, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SignXMLException

from edxml.envelope import check_envelope, q, read_header, read_package
from edxml.errors import PackageRefused
from edxml.matching import match_header
from edxml.model import DSIG_NAMESPACE, Package
from edxml.parsing import hardened_parser, parse_untrusted
from edxml.report import PackageReport, worst
from edxml.settings import EdxmlSettings
from policies.anchors import fingerprint
from policies.identity import HolderKind, parse_identity
from verifier import FileReport, Indication, Message, Modifications, SignatureKind, SignatureReport, SubIndication
from verifier.report import Severity, TimeSource
from verifier.signature import decide

DS = {"ds": DSIG_NAMESPACE}
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N = {"http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", "http://www.w3.org/2006/12/xml-c14n11"}
_SHA1_METHODS = {SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1}
_STRONG_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512,
                             SignatureMethod.ECDSA_SHA256, SignatureMethod.ECDSA_SHA384,
                             SignatureMethod.ECDSA_SHA512})
_STRONG_DIGESTS = frozenset({XmlDigest.SHA256, XmlDigest.SHA384, XmlDigest.SHA512})
FIELD = "package"


def _msg(code: str, en: str, vi: str, severity: Severity = Severity.ERROR) -> Message:
    return Message(code, en, vi, severity)


def verify_package(data: bytes, *, verifier, settings: EdxmlSettings | None = None, path: str = "<memory>",
                   now: datetime | None = None) -> PackageReport:
    """The report of one package. Never raises for bad or hostile input: a package edxml refuses to read
    is TOTAL_FAILED / FORMAT_FAILURE with the reason."""
    settings = settings or EdxmlSettings()
    try:
        root = parse_untrusted(data, max_bytes=settings.max_bytes)
        check_envelope(root)
    except PackageRefused as exc:
        return _refused(path, exc)
    report = _verify_tree(root, verifier=verifier, settings=settings, path=path, now=now)
    if report.package is None and report.indication is not Indication.TOTAL_PASSED:
        try:
            claimed = read_header(root)
        except PackageRefused:
            claimed = None
        report = replace(report, unverified_header=claimed)
    return report


def _verify_tree(root, *, verifier, settings: EdxmlSettings, path: str, now: datetime | None) -> PackageReport:
    moment = verifier.settings.at or now or datetime.now(timezone.utc)
    signatures = root.findall(".//ds:Signature", DS)
    if not signatures:
        return PackageReport(path, Indication.NO_SIGNATURE_FOUND, None, None, None, (), (_msg(
            "package.unsigned", "the package carries no XML signature: its content is not read",
            "gói tin không có chữ ký số XML: nội dung không được đọc", Severity.WARNING),))
    structure = _check_structure(root, signatures)
    if structure is not None:
        return _failed_signature(path, SubIndication.SIG_CONSTRAINTS_FAILURE, structure, None)
    signature = signatures[0]
    certificates = _certificates(signature)
    if isinstance(certificates, Message):
        return _failed_signature(path, SubIndication.NO_SIGNING_CERTIFICATE_FOUND, certificates, None,
                                 Indication.INDETERMINATE)
    leaf, others = certificates
    method_uri = signature.find("ds:SignedInfo/ds:SignatureMethod", DS).get("Algorithm", "")
    digest_uri = signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", DS).get("Algorithm", "")
    try:
        method, digest = SignatureMethod(method_uri), XmlDigest(digest_uri)
    except ValueError:
        return _failed_signature(path, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, _msg(
            "package.algorithm", f"the package signature algorithm {method_uri} / {digest_uri} is not allowed",
            f"thuật toán chữ ký gói tin {method_uri} / {digest_uri} không được phép"), leaf, Indication.INDETERMINATE)
    messages: list[Message] = []
    candidates: list[tuple[Indication, SubIndication]] = []
    sha1 = method in _SHA1_METHODS or digest is XmlDigest.SHA1
    if sha1:
        decision = _sha1_decision(settings, verifier, moment)
        messages.append(decision)
        if decision.severity is Severity.ERROR:
            candidates.append((Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE))
    elif method not in _STRONG_METHODS or digest not in _STRONG_DIGESTS:
        return _failed_signature(path, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, _msg(
            "package.algorithm", f"the package signature algorithm {method.name} / {digest.name} is not allowed",
            f"thuật toán chữ ký gói tin {method.name} / {digest.name} không được phép"), leaf, Indication.INDETERMINATE)
    config = SignatureConfiguration(
        require_x509=True, location=f"./{q('edXMLHeader')}/", expect_references=1,
        signature_methods=_STRONG_METHODS | (_SHA1_METHODS if sha1 else frozenset()),
        digest_algorithms=_STRONG_DIGESTS | ({XmlDigest.SHA1} if sha1 else frozenset()),
        # signxml only checks the cryptography here: validity, revocation and the chain are the verifier's,
        # judged below with the ETSI EN 319 102-1 outcomes (an expired certificate is not a bad signature value).
        verification_time=_inside_validity(leaf, moment))
    try:
        result = XMLVerifier().verify(root, x509_cert=crypto_x509.load_der_x509_certificate(leaf.dump()),
                                      parser=hardened_parser(), expect_config=config)
    except InvalidDigest:
        return _failed_signature(path, SubIndication.HASH_FAILURE, _msg(
            "package.digest", "the package was changed after it was signed (the digest of the envelope does not "
            "match: a header field, the manifest or an attachment differs from what was signed)",
            "gói tin đã bị thay đổi sau khi ký (giá trị băm không khớp: trường tiêu đề, danh mục hoặc tệp đính kèm "
            "khác với nội dung đã ký)"), leaf)
    except (InvalidCertificate, InvalidSignature):
        return _failed_signature(path, SubIndication.SIG_CRYPTO_FAILURE, _msg(
            "package.signature-value", "the package signature value does not verify with the signer's certificate",
            "giá trị chữ ký gói tin không khớp với chứng thư số của người ký"), leaf)
    except (InvalidInput, SignXMLException, ValueError, etree.LxmlError) as exc:
        return _failed_signature(path, SubIndication.FORMAT_FAILURE, _msg(
            "package.signature-format", f"the package signature cannot be read: {str(exc)[:200]}",
            f"không đọc được chữ ký gói tin: {str(exc)[:200]}"), leaf)
    signed = result.signed_xml
    if signed is None or signed.tag != q("edXMLEnvelope"):
        return _failed_signature(path, SubIndication.SIG_CONSTRAINTS_FAILURE, _msg(
            "package.coverage", "the package signature does not cover the whole edXML envelope",
            "chữ ký gói tin không bao trùm toàn bộ gói tin edXML"), leaf)

    status = verifier.check_certificate(leaf, other_certs=others, moment=moment,
                                        role_en="package signer", role_vi="người ký gói tin")
    messages.extend(status.messages)
    if not status.passed:
        candidates.append((status.indication, status.sub_indication))
    identity = parse_identity(leaf)
    if identity.holder_kind is not HolderKind.ORGANISATION:
        messages.append(_msg(
            "package.not-agency", "the package is not signed with an agency (organisation) certificate",
            "gói tin không được ký bằng chứng thư số của cơ quan, tổ chức", Severity.WARNING))
    indication, sub = decide(candidates)
    if indication is Indication.TOTAL_PASSED:
        messages.insert(0, _msg("package.valid", "the package signature is valid", "chữ ký số gói tin hợp lệ",
                                Severity.INFO))
    package_signature = SignatureReport(
        field=FIELD, kind=SignatureKind.PACKAGE, indication=indication, sub_indication=sub, signer=identity,
        certificate_sha256=fingerprint(leaf.dump()), signing_time=None, signing_time_source=TimeSource.NONE,
        claimed_time=None, timestamp=None, trust_anchor=status.trust_anchor, revocation=status.revocation,
        coverage="entire_file", modifications=Modifications.NONE, change=None,
        digest_algorithm=digest.name.lower().replace("_", "-"), signature_algorithm=method.name.lower(),
        messages=tuple(messages))

    # Only the signed tree is read from here on.
    try:
        package, wrong_ids = read_package(signed, max_attachment_bytes=settings.max_bytes)
    except PackageRefused as exc:
        refused = _msg(exc.code, exc.en, exc.vi)
        return PackageReport(path, Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, package_signature,
                             None, (), (refused,), leaf.serial_number)
    file_messages: list[Message] = []
    if wrong_ids:
        file_messages.append(_msg(
            "package.document-id", f"DocumentId {wrong_ids[0]!r} does not match the header "
            f"(expected {package.header.document_id!r})",
            f"DocumentId {wrong_ids[0]!r} không khớp với tiêu đề (phải là {package.header.document_id!r})"))
    attachments = []
    for attachment in package.attachments:
        name = f"{path}#{attachment.content_id[4:]}/{attachment.name}"
        if attachment.content_type.lower() != "application/pdf":
            attachments.append(FileReport.of(name, (), (_msg(
                "package.not-pdf", f"attachment of type {attachment.content_type} is not checked",
                f"tệp đính kèm kiểu {attachment.content_type} không được kiểm tra", Severity.WARNING),)))
            continue
        attachments.append(verifier.verify_pdf(attachment.data, path=name))
    file_messages.extend(match_header(package.header, package.attachments, attachments))
    return _package_report(path, package_signature, package, tuple(attachments), tuple(file_messages),
                           leaf.serial_number)


def _package_report(path: str, signature: SignatureReport, package: Package,
                    attachments: tuple[FileReport, ...], messages: tuple[Message, ...], serial: int) -> PackageReport:
    indications = [signature.indication]
    for report in attachments:
        # An unsigned document inside a signed package is not proven: doubt, not success.
        indications.append(Indication.INDETERMINATE if report.indication is Indication.NO_SIGNATURE_FOUND
                           else report.indication)
    if any(m.severity is Severity.ERROR for m in messages):
        indications.append(Indication.TOTAL_FAILED)
    indication = worst(indications)
    sub = None
    if indication is not Indication.TOTAL_PASSED:
        sub = signature.sub_indication or next(
            (a.sub_indication or next((s.sub_indication for s in a.signatures if s.sub_indication), None)
             for a in attachments if a.indication is indication), None) or (
            SubIndication.SIG_CONSTRAINTS_FAILURE if indication is Indication.TOTAL_FAILED else SubIndication.NO_POE)
    return PackageReport(path, indication, sub, signature, package, attachments, messages, serial)


def _check_structure(root, signatures) -> Message | None:
    """Signature wrapping defences: one signature, in the header, over the whole document, nothing else."""
    if len(signatures) != 1:
        return _msg("package.wrapping", f"the package carries {len(signatures)} XML signatures; exactly one is "
                    "allowed", f"gói tin có {len(signatures)} chữ ký XML; chỉ được có đúng một")
    signature = signatures[0]
    parent = signature.getparent()
    if parent is None or parent.tag != q("edXMLHeader") or parent.getparent() is not root:
        return _msg("package.wrapping", "the XML signature is not in the package's edXMLHeader (moved or wrapped)",
                    "chữ ký XML không nằm trong edXMLHeader của gói tin (bị di chuyển hoặc bao gói)")
    references = signature.findall("ds:SignedInfo/ds:Reference", DS)
    if len(references) != 1:
        return _msg("package.wrapping", f"the signature has {len(references)} references; exactly one, over the "
                    "whole package, is allowed", f"chữ ký có {len(references)} tham chiếu; chỉ được có một, bao trùm "
                    "toàn bộ gói tin")
    uri = references[0].get("URI")
    if uri != "":
        return _msg("package.coverage", f"the signature covers only {uri!r}, not the whole package (Reference "
                    "URI must be \"\")", f"chữ ký chỉ bao trùm {uri!r}, không phải toàn bộ gói tin (Reference URI "
                    "phải là \"\")")
    transforms = [t.get("Algorithm") for t in references[0].findall("ds:Transforms/ds:Transform", DS)]
    if not transforms or transforms[0] != ENVELOPED or any(t not in C14N for t in transforms[1:]) or len(transforms) > 2:
        return _msg("package.transforms", f"the signature's transforms {transforms} are not enveloped-signature "
                    "then canonicalisation", f"các phép biến đổi {transforms} của chữ ký không phải enveloped-signature "
                    "rồi chuẩn hóa")
    for element in root.iter():
        if element.get("Id") is not None or element.get("ID") is not None:
            if element is not signature and element.getparent() is not signature:
                return _msg("package.wrapping", "the package carries Id attributes, which edXML packages do not use "
                            "and signature wrapping does", "gói tin có thuộc tính Id, gói edXML không dùng và đây là "
                            "dấu hiệu tấn công bao gói chữ ký")
    return None


def _certificates(signature):
    found = []
    for element in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", DS):
        try:
            found.append(asn1_x509.Certificate.load(base64.b64decode("".join((element.text or "").split()))))
            found[-1].native  # parse now: a broken certificate is a missing one
        except (ValueError, TypeError):
            return _msg("package.certificate", "a certificate in the signature cannot be read",
                        "không đọc được chứng thư số trong chữ ký")
    if not found:
        return _msg("package.no-certificate", "the package signature carries no X509Certificate",
                    "chữ ký gói tin không kèm chứng thư số (X509Certificate)")
    # The signer is the certificate that issued none of the others (the chain may come in any order).
    issuers = {c.issuer.dump() for c in found if c.subject.dump() != c.issuer.dump()}
    leaf = next((c for c in found if c.subject.dump() not in issuers), found[0])
    return leaf, tuple(c for c in found if c is not leaf)


def _inside_validity(certificate, moment: datetime) -> datetime:
    validity = certificate["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    return min(max(moment, start), end)


def _sha1_decision(settings: EdxmlSettings, verifier, moment: datetime) -> Message:
    until = settings.legacy_sha1_until or verifier.settings.policy.algorithms.legacy_sha1_ca_until
    if until is not None and moment <= until:
        return _msg("package.legacy-sha1",
                    f"the package is signed with SHA-1 (older packages of the exchange axis), accepted until "
                    f"{until.isoformat()}",
                    f"gói tin được ký bằng SHA-1 (gói tin cũ của trục liên thông), chấp nhận đến {until.isoformat()}",
                    Severity.WARNING)
    return _msg("package.sha1-refused",
                "the package is signed with SHA-1, which is no longer accepted"
                + (f" (accepted until {until.isoformat()})" if until else ""),
                "gói tin được ký bằng SHA-1, không còn được chấp nhận"
                + (f" (chỉ chấp nhận đến {until.isoformat()})" if until else ""))


def _refused(path: str, exc: PackageRefused) -> PackageReport:
    return PackageReport(path, Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, None, None, (),
                         (_msg(exc.code, exc.en, exc.vi),))


def _failed_signature(path: str, sub: SubIndication, message: Message, leaf,
                      indication: Indication = Indication.TOTAL_FAILED) -> PackageReport:
    signature = SignatureReport(
        field=FIELD, kind=SignatureKind.PACKAGE, indication=indication, sub_indication=sub,
        signer=parse_identity(leaf) if leaf is not None else None,
        certificate_sha256=fingerprint(leaf.dump()) if leaf is not None else None, signing_time=None,
        signing_time_source=TimeSource.NONE, claimed_time=None, timestamp=None, trust_anchor=None, revocation=(),
        coverage="unclear", modifications=Modifications.NONE, change=None, digest_algorithm=None,
        signature_algorithm=None, messages=(message,))
    return PackageReport(path, indication, sub, signature, None, (), (),
                         leaf.serial_number if leaf is not None else None)
