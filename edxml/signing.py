"""Signing envelopes with XML-DSig through the key protocol, so the key never leaves its token.

Choice: signxml builds and canonicalises the signature (enveloped, `Reference URI=""`, enveloped-signature
transform then exclusive c14n, W3C XML-DSig 1.1 / QCVN 102:2016). It signs the canonical SignedInfo by
calling `key.sign(data, padding, algorithm)` on whatever key object it is given (signxml/signer.py duck-types
the key: it only calls `sign` and reads `key_size`). `_CapturingKey` is that object: it hashes the SignedInfo
and keeps the digest; the digest then goes to `policies.keys.DigestSigner.sign_digest` (a SoftHSM or hardware
token, the token bridge, a remote HSM), at once (`sign_envelope`) or later (`prepare_envelope` /
`complete_envelope`, the service's hash-only flow). No private key is ever loaded in this process.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PSS
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm as XmlDigest, SignatureMethod, XMLSigner
from signxml.exceptions import SignXMLException

from edxml.envelope import q
from edxml.errors import SigningFailed
from edxml.model import DSIG_NAMESPACE
from edxml.parsing import hardened_parser
from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme

EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

_METHODS = {
    ("rsa", DigestAlgorithm.SHA256): SignatureMethod.RSA_SHA256,
    ("rsa", DigestAlgorithm.SHA384): SignatureMethod.RSA_SHA384,
    ("rsa", DigestAlgorithm.SHA512): SignatureMethod.RSA_SHA512,
    ("ec", DigestAlgorithm.SHA256): SignatureMethod.ECDSA_SHA256,
    ("ec", DigestAlgorithm.SHA384): SignatureMethod.ECDSA_SHA384,
    ("ec", DigestAlgorithm.SHA512): SignatureMethod.ECDSA_SHA512,
}
_DIGESTS = {DigestAlgorithm.SHA256: XmlDigest.SHA256, DigestAlgorithm.SHA384: XmlDigest.SHA384,
            DigestAlgorithm.SHA512: XmlDigest.SHA512}


@dataclass(frozen=True)
class PreparedEnvelope:
    """An envelope whose SignedInfo is final and whose SignatureValue awaits the key's answer to `digest`
    (the hash-only flow: the service prepares, the token bridge signs the digest, the service completes)."""

    xml: bytes = field(repr=False)
    digest: bytes
    digest_algorithm: DigestAlgorithm
    scheme: SignatureScheme
    key_bits: int


class _CapturingKey:
    """What signxml sees as the private key (signxml/signer.py duck-types it: `sign` and `key_size` only):
    it keeps the digest of the canonical SignedInfo and answers with a placeholder of the right shape."""

    def __init__(self, public_key_info):
        self._public = load_der_public_key(public_key_info.dump())
        self.digest: bytes | None = None
        self.algorithm = None
        self.scheme: SignatureScheme | None = None

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self):
        return self._public

    def sign(self, data: bytes, padding=None, algorithm=None, *, signature_algorithm=None) -> bytes:
        if signature_algorithm is not None:  # ECDSA: signxml passes ec.ECDSA(hash) and wants DER (r, s)
            algorithm, self.scheme = signature_algorithm.algorithm, SignatureScheme.ECDSA
        else:
            self.scheme = SignatureScheme.RSA_PSS if isinstance(padding, PSS) else SignatureScheme.RSA_PKCS1V15
        digest = hashes.Hash(algorithm)
        digest.update(data)
        self.digest, self.algorithm = digest.finalize(), algorithm
        if self.scheme is SignatureScheme.ECDSA:
            return encode_dss_signature(1, 1)
        return b"\0" * ((self.key_size + 7) // 8)


def prepare_envelope(root: etree._Element, *, public_key_info, certificate, chain=(),
                     digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256) -> PreparedEnvelope:
    """Lay out the enveloped signature of `root` (last in `edXMLHeader`) and return the digest to sign.
    `certificate` and `chain` (asn1crypto) go into `X509Data`, signer first."""
    family = "ec" if public_key_info.algorithm == "ec" else "rsa"
    method = _METHODS.get((family, digest_algorithm))
    if method is None:
        # DOMAIN.md: new signatures use SHA-256 or stronger; SHA-1 is for verifying old packages only.
        raise SigningFailed(f"{digest_algorithm.value.upper()} is not allowed for new package signatures",
                            f"không được ký gói tin mới bằng {digest_algorithm.value.upper()}")
    if public_key_info.dump() != certificate.public_key.dump():
        raise SigningFailed("the key does not belong to the certificate", "khóa không khớp với chứng thư số")
    head = root.find(q("edXMLHeader"))
    if head is None:
        raise SigningFailed("the envelope has no edXMLHeader", "gói tin thiếu edXMLHeader")
    etree.SubElement(head, f"{{{DSIG_NAMESPACE}}}Signature", Id="placeholder", nsmap={"ds": DSIG_NAMESPACE})
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=_DIGESTS[digest_algorithm],
                       c14n_algorithm=CanonicalizationMethod(EXCLUSIVE_C14N))
    certificates = [crypto_x509.load_der_x509_certificate(c.dump()) for c in (certificate, *chain)]
    key = _CapturingKey(public_key_info)
    try:
        signed = signer.sign(root, key=key, cert=certificates)
    except SignXMLException as exc:
        raise SigningFailed(f"the package could not be signed: {exc}", f"không ký được gói tin: {exc}") from exc
    return PreparedEnvelope(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"), key.digest,
                            digest_algorithm, key.scheme, key.key_size)


def complete_envelope(prepared: PreparedEnvelope, signature_value: bytes) -> bytes:
    """Put the key's answer in SignatureValue (ECDSA: DER (r, s) becomes r || s, XML-DSig 1.1 §6.4.3).
    SignatureValue is outside SignedInfo, so nothing signed changes."""
    if prepared.scheme is SignatureScheme.ECDSA:
        try:
            r, s = decode_dss_signature(signature_value)
        except ValueError:
            raise SigningFailed("the ECDSA signature value is not DER (r, s)",
                                "giá trị chữ ký ECDSA không đúng dạng DER (r, s)") from None
        size = (prepared.key_bits + 7) // 8
        signature_value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    root = etree.fromstring(prepared.xml, parser=hardened_parser())
    value = root.find(f"{q('edXMLHeader')}/{{{DSIG_NAMESPACE}}}Signature/{{{DSIG_NAMESPACE}}}SignatureValue")
    value.text = base64.b64encode(signature_value).decode("ascii")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sign_envelope(root: etree._Element, *, key: DigestSigner, certificate, chain=(),
                  digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
    """Sign `root` (an edXML envelope) with a key at hand (token, bridge, HSM): prepare, have the key sign
    the digest, complete. Returns the signed document's bytes (UTF-8, with an XML declaration)."""
    prepared = prepare_envelope(root, public_key_info=key.public_key_info(), certificate=certificate, chain=chain,
                                digest_algorithm=digest_algorithm)
    try:
        value = key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm, scheme=prepared.scheme)
    except Exception as exc:  # the key's own errors (token, bridge, HSM): translated at our boundary
        raise SigningFailed(f"the key could not sign the package: {exc}", f"khóa không ký được gói tin: {exc}") from exc
    return complete_envelope(prepared, value)


def signature_value_matches(prepared: PreparedEnvelope, *, certificate, signature_value: bytes) -> bool:
    """Whether `signature_value` (as a token returns it: RSA bytes, ECDSA DER) signs the prepared digest
    with the certificate's key: checked before anything is completed or recorded."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.padding import MGF1, PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    public = load_der_public_key(certificate.public_key.dump())
    algorithm = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[
        prepared.digest_algorithm.value]()
    try:
        if prepared.scheme is SignatureScheme.ECDSA:
            public.verify(signature_value, prepared.digest, ec.ECDSA(Prehashed(algorithm)))
        elif prepared.scheme is SignatureScheme.RSA_PSS:
            public.verify(signature_value, prepared.digest, PSS(MGF1(algorithm), algorithm.digest_size),
                          Prehashed(algorithm))
        else:
            public.verify(signature_value, prepared.digest, PKCS1v15(), Prehashed(algorithm))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
