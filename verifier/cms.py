"""CMS pieces shared by PAdES and CAdES: the signature value, the algorithms, RFC 3161 timestamp tokens.

Integrity checks use pyHanko's `validate_sig_integrity` (signed attributes, message digest, signature value);
pyHanko's errors are translated here into ETSI indications with messages, never passed on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp, x509
from pyhanko.sign.general import extract_signer_info
from pyhanko.sign.validation import errors as sv_errors
from pyhanko.sign.validation.generic_cms import extract_certs_for_validation, validate_sig_integrity
from pyhanko_certvalidator import ValidationContext

from policies.algorithms import AlgorithmRules, KeyDescription
from verifier.chain import TSA_KEY_USAGE, ChainCache, anchor_name, display_name, validate_chain_cached
from verifier.report import Indication, Message, RevocationEvidence, Severity, SubIndication, TimestampInfo, iso


def signature_algorithms(signer_info: cms.SignerInfo, cert: x509.Certificate) -> tuple[str, str, KeyDescription]:
    digest = signer_info["digest_algorithm"]["algorithm"].native
    # RFC 8419, 3.1: Ed448 in CMS uses SHAKE256 with a 512-bit output (asn1crypto names the OID with its
    # length parameter "shake256_len"); the policy names the function.
    digest = "shake256" if digest == "shake256_len" else digest
    mechanism = signer_info["signature_algorithm"]["algorithm"].native
    return digest, mechanism, KeyDescription.of(cert.public_key)


def check_signature_value(
    signer_info: cms.SignerInfo, cert: x509.Certificate, *, digest: bytes, content_type: str
) -> tuple[Indication, SubIndication, Message] | None:
    """None when the signed digest matches and the signature value verifies; the failure otherwise."""
    try:
        intact, valid = validate_sig_integrity(signer_info, cert, expected_content_type=content_type,
                                               actual_digest=digest)
    except sv_errors.SignatureValidationError as exc:
        return (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, Message(
            "crypto.format", f"the signature's CMS structure is invalid: {exc.failure_message}",
            f"cấu trúc CMS của chữ ký không hợp lệ: {exc.failure_message}", Severity.ERROR))
    except (ValueError, TypeError, KeyError) as exc:
        return (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, Message(
            "crypto.format", f"the signature cannot be checked: {exc}", f"không kiểm tra được chữ ký: {exc}",
            Severity.ERROR))
    if not intact:
        return (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE, Message(
            "crypto.hash",
            "the signed data was changed: its digest does not match the one the signer signed",
            "dữ liệu đã ký bị thay đổi: giá trị băm không khớp với giá trị người ký đã ký", Severity.ERROR))
    if not valid and _verifies_otherwise(signer_info, cert):
        valid = True
    if not valid:
        return (Indication.TOTAL_FAILED, SubIndication.SIG_CRYPTO_FAILURE, Message(
            "crypto.signature", "the signature value does not verify with the signer's public key",
            "giá trị chữ ký không khớp với khóa công khai của người ký", Severity.ERROR))
    return None


# BSI TR-03111, 5.2.1: ecdsa-plain-SHA* (the value is r || s, not a DER SEQUENCE), used by German QES cards.
_PLAIN_ECDSA = {f"0.4.0.127.0.7.1.1.4.1.{n}": h for n, h in
                ((1, "sha1"), (2, "sha224"), (3, "sha256"), (4, "sha384"), (5, "sha512"))}


def _verifies_otherwise(signer_info: cms.SignerInfo, cert: x509.Certificate) -> bool:
    """Two encodings that pyHanko does not read, checked with `cryptography` over the DER of the signed
    attributes (RFC 5652, 5.4): plain ECDSA (BSI TR-03111), and an RSA PKCS#1 v1.5 value whose DigestInfo
    names the signer info's digest algorithm while the signature algorithm names another (iText writes
    sha256WithRSA over SHA-384; the DigestInfo inside the value says which hash was used, so nothing is
    ambiguous). False whenever neither applies or the value still does not verify."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    attrs = signer_info["signed_attrs"]
    if not attrs.contents:
        return False
    data = attrs.untag().dump()
    value = signer_info["signature"].native
    mechanism = signer_info["signature_algorithm"]["algorithm"].dotted
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    try:
        key = serialization.load_der_public_key(cert.public_key.dump())
        if mechanism in _PLAIN_ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = utils.encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
            key.verify(der, data, ec.ECDSA(getattr(hashes, _PLAIN_ECDSA[mechanism].upper())()))
            return True
        if isinstance(key, rsa.RSAPublicKey) and signer_info["signature_algorithm"].signature_algo == "rsassa_pkcs1v15":
            key.verify(value, data, padding.PKCS1v15(), getattr(hashes, digest_name.upper())())
            return True
    except (InvalidSignature, ValueError, TypeError, AttributeError, KeyError):
        return False
    return False


@dataclass(frozen=True)
class TimestampCheck:
    info: TimestampInfo | None
    tsa_certificate: x509.Certificate | None
    failure: tuple[Indication, SubIndication] | None
    messages: tuple[Message, ...]
    trust_anchor: str | None = None
    revocation: tuple[RevocationEvidence, ...] = ()
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None

    @property
    def proves_time(self) -> bool:
        return self.info is not None and self.info.intact and self.info.trusted


async def check_timestamp_token(
    signed_data: cms.SignedData,
    *,
    expected_imprint: Callable[[str], bytes],
    context: ValidationContext,
    algorithms: AlgorithmRules,
    as_document_timestamp: bool = False,
    document_revinfo: set[bytes] = frozenset(),
    cache: ChainCache | None = None,
    url_of=None,
) -> TimestampCheck:
    """An RFC 3161 token: its imprint, its signature and the TSA's chain (now). A signature timestamp that
    fails only costs the signature its proof of time; a document timestamp that fails fails itself."""
    what_en, what_vi = ("document timestamp", "dấu thời gian văn bản") if as_document_timestamp else (
        "signature timestamp", "dấu thời gian của chữ ký")
    try:
        tst_info = signed_data["encap_content_info"]["content"].parsed
        if not isinstance(tst_info, tsp.TSTInfo):
            raise ValueError("the token does not encapsulate a TSTInfo")
        gen_time: datetime = tst_info["gen_time"].native
        signer_info = extract_signer_info(signed_data)
        tsa_cert = extract_certs_for_validation(signed_data).signer_cert
        imprint_algo = tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint_ok = tst_info["message_imprint"]["hashed_message"].native == expected_imprint(imprint_algo)
        content = bytes(signed_data["encap_content_info"]["content"])
        md = signer_info["digest_algorithm"]["algorithm"].native
        failure = check_signature_value(signer_info, tsa_cert, digest=hashlib.new(md, content).digest(),
                                        content_type="tst_info")
        digest_algorithm, signature_algorithm, _ = signature_algorithms(signer_info, tsa_cert)
    except (ValueError, TypeError, KeyError, sv_errors.SignatureValidationError) as exc:
        message = Message("timestamp.format", f"the {what_en} is malformed: {exc}",
                          f"{what_vi} bị hỏng cấu trúc: {exc}", Severity.ERROR)
        return TimestampCheck(None, None, (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE), (message,))
    tsa = display_name(tsa_cert.subject)
    messages: list[Message] = []
    if not imprint_ok:
        messages.append(Message("timestamp.imprint", f"the {what_en} was made over other data",
                                f"{what_vi} được cấp cho dữ liệu khác", Severity.ERROR))
        info = TimestampInfo(tsa, gen_time, False, False)
        return TimestampCheck(info, tsa_cert, (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE),
                              tuple(messages), digest_algorithm=digest_algorithm,
                              signature_algorithm=signature_algorithm)
    if failure is not None:
        info = TimestampInfo(tsa, gen_time, False, False)
        return TimestampCheck(info, tsa_cert, failure[:2], (failure[2],), digest_algorithm=digest_algorithm,
                              signature_algorithm=signature_algorithm)
    chain, revocation = await validate_chain_cached(
        tsa_cert, context=context, key_usage=TSA_KEY_USAGE, time_proven=True, algorithms=algorithms,
        cache=cache, document_revinfo=set(document_revinfo), role_en="timestamp authority",
        role_vi="đơn vị cấp dấu thời gian", url_of=url_of)
    trusted = chain.indication is Indication.TOTAL_PASSED
    messages.extend(chain.messages)
    if trusted:
        messages.append(Message("timestamp.trusted", f"{what_en} by {tsa} at {iso(gen_time)}",
                                f"{what_vi} do {tsa} cấp lúc {iso(gen_time)}"))
        failure_out = None
    elif as_document_timestamp:
        failure_out = (chain.indication, chain.sub_indication)
    else:
        # ETSI EN 319 102-1, 5.5: an untrusted signature timestamp gives no proof of existence; the
        # signature is then judged without it.
        messages.append(Message("timestamp.untrusted",
                                f"the {what_en} by {tsa} is not trusted and proves no time",
                                f"{what_vi} do {tsa} cấp không được tin cậy nên không chứng minh thời gian",
                                Severity.WARNING))
        failure_out = None
    return TimestampCheck(
        TimestampInfo(tsa, gen_time, True, trusted), tsa_cert, failure_out, tuple(messages),
        trust_anchor=anchor_name(chain.path) if trusted else None,
        revocation=revocation,
        digest_algorithm=digest_algorithm, signature_algorithm=signature_algorithm,
    )
