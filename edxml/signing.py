"""Signing envelopes with XML-DSig through the key protocol, so the key never leaves its token.

Choice: signxml builds and canonicalises the signature (enveloped, `Reference URI=""`, enveloped-signature
transform then exclusive c14n, W3C XML-DSig 1.1 / QCVN 102:2016), and signs the canonical SignedInfo by
calling `key.sign(data, padding, algorithm)` on whatever key object it is given (signxml/signer.py duck-types
the key: it only ever calls `sign` and reads `key_size`). `DigestSignerKey` is that object: it hashes the
SignedInfo here and hands only the digest to `policies.keys.DigestSigner.sign_digest` (a SoftHSM or
hardware token, the token bridge, a remote HSM). No private key is ever loaded in this process.
"""

from __future__ import annotations

from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PSS
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree
from signxml import CanonicalizationMethod, DigestAlgorithm as XmlDigest, SignatureMethod, XMLSigner
from signxml.exceptions import SignXMLException

from edxml.envelope import q
from edxml.errors import SigningFailed
from edxml.model import DSIG_NAMESPACE
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


class DigestSignerKey:
    """A `DigestSigner` dressed as the private key signxml expects: it signs a digest, nothing else."""

    def __init__(self, signer: DigestSigner):
        self._signer = signer
        self._public = load_der_public_key(signer.public_key_info().dump())

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self):
        return self._public

    def sign(self, data: bytes, padding=None, algorithm=None, *, signature_algorithm=None) -> bytes:
        if signature_algorithm is not None:  # ECDSA: signxml passes ec.ECDSA(hash) and wants DER (r, s)
            algorithm, scheme = signature_algorithm.algorithm, SignatureScheme.ECDSA
        else:
            scheme = SignatureScheme.RSA_PSS if isinstance(padding, PSS) else SignatureScheme.RSA_PKCS1V15
        digest = hashes.Hash(algorithm)
        digest.update(data)
        try:
            return self._signer.sign_digest(digest.finalize(), digest_algorithm=DigestAlgorithm(algorithm.name),
                                            scheme=scheme)
        except Exception as exc:  # the key's own errors (token, bridge, HSM): translated at our boundary
            raise SigningFailed(f"the key could not sign the package: {exc}",
                                f"khóa không ký được gói tin: {exc}") from exc


def sign_envelope(root: etree._Element, *, key: DigestSigner, certificate, chain=(),
                  digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
    """Sign `root` (an edXML envelope) in place of a `ds:Signature` placed last in `edXMLHeader`; returns
    the signed document's bytes (UTF-8, with an XML declaration). `certificate` and `chain` are asn1crypto
    certificates, written into `X509Data` (signer first)."""
    public = key.public_key_info()
    family = "ec" if public.algorithm == "ec" else "rsa"
    method = _METHODS.get((family, digest_algorithm))
    if method is None:
        # DOMAIN.md: new signatures use SHA-256 or stronger; SHA-1 is for verifying old packages only.
        raise SigningFailed(f"{digest_algorithm.value.upper()} is not allowed for new package signatures",
                            f"không được ký gói tin mới bằng {digest_algorithm.value.upper()}")
    head = root.find(q("edXMLHeader"))
    if head is None:
        raise SigningFailed("the envelope has no edXMLHeader", "gói tin thiếu edXMLHeader")
    etree.SubElement(head, f"{{{DSIG_NAMESPACE}}}Signature", Id="placeholder", nsmap={"ds": DSIG_NAMESPACE})
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=_DIGESTS[digest_algorithm],
                       c14n_algorithm=CanonicalizationMethod(EXCLUSIVE_C14N))
    certificates = [crypto_x509.load_der_x509_certificate(c.dump()) for c in (certificate, *chain)]
    try:
        signed = signer.sign(root, key=DigestSignerKey(key), cert=certificates)
    except SigningFailed:
        raise
    except SignXMLException as exc:
        raise SigningFailed(f"the package could not be signed: {exc}", f"không ký được gói tin: {exc}") from exc
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
