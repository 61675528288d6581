"""CMS over any `DigestSigner`: the pyHanko `Signer` adapter, signature mechanisms, and CAdES detached.

pyHanko calls `Signer.async_sign_raw(data, digest_algorithm)` with the DER of the signed attributes; the
adapter hashes them and asks the key (PKCS#11 token, bridge, in-memory) for a signature over the digest.
"""

from __future__ import annotations

import hashlib

from asn1crypto import algos, cms, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme
from signer.errors import KeyMismatch, SignatureValueMismatch

_HASHES = {
    DigestAlgorithm.SHA256: hashes.SHA256,
    DigestAlgorithm.SHA384: hashes.SHA384,
    DigestAlgorithm.SHA512: hashes.SHA512,
}


def default_scheme(certificate: x509.Certificate) -> SignatureScheme:
    """PKCS#1 v1.5 for RSA (what real tokens do, DOMAIN.md), ECDSA for EC."""
    algorithm = certificate.public_key.algorithm
    if algorithm == "rsa":
        return SignatureScheme.RSA_PKCS1V15
    if algorithm == "ec":
        return SignatureScheme.ECDSA
    raise KeyMismatch(
        f"khóa {algorithm} không được hỗ trợ / {algorithm} keys are not supported (RSA or ECDSA only)"
    )


def check_scheme(certificate: x509.Certificate, scheme: SignatureScheme) -> None:
    algorithm = certificate.public_key.algorithm
    fits = (algorithm == "rsa" and scheme in (SignatureScheme.RSA_PKCS1V15, SignatureScheme.RSA_PSS)) or (
        algorithm == "ec" and scheme is SignatureScheme.ECDSA
    )
    if not fits:
        raise KeyMismatch(
            f"lược đồ {scheme.value} không dùng được với khóa {algorithm} / "
            f"scheme {scheme.value} does not fit a {algorithm} key"
        )


def signature_mechanism(scheme: SignatureScheme, digest: DigestAlgorithm) -> algos.SignedDigestAlgorithm:
    """The CMS signatureAlgorithm. PSS: MGF1 with the same digest, salt = digest length (policies.keys)."""
    if scheme is SignatureScheme.RSA_PKCS1V15:
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest.value}_rsa"})
    if scheme is SignatureScheme.ECDSA:
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest.value}_ecdsa"})
    params = algos.RSASSAPSSParams({
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": digest.value}),
        "mask_gen_algorithm": algos.MaskGenAlgorithm({
            "algorithm": "mgf1",
            "parameters": algos.DigestAlgorithm({"algorithm": digest.value}),
        }),
        "salt_length": digest.digest_size,
        "trailer_field": "trailer_field_bc",
    })
    return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})


def digest_of(data: bytes, digest: DigestAlgorithm) -> bytes:
    return hashlib.new(digest.value, data).digest()


def verify_signature_value(certificate: x509.Certificate, signed_data: bytes, signature: bytes, *,
                           digest: DigestAlgorithm, scheme: SignatureScheme) -> None:
    """Raise SignatureValueMismatch unless `signature` is the certificate key's signature over the data."""
    public_key = serialization.load_der_public_key(certificate.public_key.dump())
    hash_algorithm = _HASHES[digest]()
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and scheme is SignatureScheme.RSA_PKCS1V15:
            public_key.verify(signature, signed_data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, rsa.RSAPublicKey) and scheme is SignatureScheme.RSA_PSS:
            pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
            public_key.verify(signature, signed_data, pss, hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and scheme is SignatureScheme.ECDSA:
            public_key.verify(signature, signed_data, ec.ECDSA(hash_algorithm))
        else:
            raise KeyMismatch(f"scheme {scheme.value} does not fit the certificate key")
    except (InvalidSignature, ValueError) as exc:
        raise SignatureValueMismatch(
            "giá trị chữ ký không khớp với bản tóm lược đã chuẩn bị hoặc không do khóa của chứng thư ký / "
            "the signature value is not over the prepared digest or not made by the certificate's key"
        ) from exc


def certificate_store(certificate: x509.Certificate, chain) -> SimpleCertificateStore:
    """The other certificates of the CMS `certificates` set: pyHanko adds the signer's certificate itself, so
    it is left out here, and each certificate is listed once (a DER SET OF holds no duplicates; issue 15)."""
    seen = {certificate.dump()}
    others = []
    for item in chain:
        if item.dump() not in seen:
            seen.add(item.dump())
            others.append(item)
    return SimpleCertificateStore.from_certs(others)


class KeySigner(Signer):
    """A pyHanko `Signer` whose private key is any `DigestSigner` (token, bridge, in-memory)."""

    def __init__(self, key: DigestSigner, certificate: x509.Certificate, chain=(), *,
                 digest: DigestAlgorithm = DigestAlgorithm.SHA256, scheme: SignatureScheme | None = None):
        scheme = scheme or default_scheme(certificate)
        check_scheme(certificate, scheme)
        if key.public_key_info().dump() != certificate.public_key.dump():
            raise KeyMismatch(
                "khóa không khớp với chứng thư số / the key does not belong to the certificate"
            )
        self._key = key
        self._scheme = scheme
        self._digest = digest
        super().__init__(
            signing_cert=certificate,
            cert_registry=certificate_store(certificate, chain),
            signature_mechanism=signature_mechanism(scheme, digest),
            embed_roots=False,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        digest = DigestAlgorithm(digest_algorithm)
        if dry_run:  # placeholder of the right size; bytes_reserved is normally set so this is unused
            size = self.signing_cert.public_key.bit_size
            return bytes(size // 8 if self._scheme is not SignatureScheme.ECDSA else size // 4 + 8)
        return self._key.sign_digest(digest_of(data, digest), digest_algorithm=digest, scheme=self._scheme)


def sign_cades(data: bytes, *, key: DigestSigner, certificate: x509.Certificate, chain=(),
               digest: DigestAlgorithm = DigestAlgorithm.SHA256, scheme: SignatureScheme | None = None,
               timestamper=None, environment=None, kind=None) -> bytes:
    """A CAdES detached signature (`.p7s`, DER) over any file; B-T when a timestamper is given.

    With a `SigningEnvironment`, the certificate is checked first as for PDFs (validity, path, revocation,
    and the holder kind when a `SignatureKind` is given)."""
    import asyncio

    if environment is not None:
        from signer.eligibility import check_certificate

        asyncio.run(check_certificate(certificate, tuple(chain), kind=kind, environment=environment,
                                      moment=environment.now()))

    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps import TimestampRequestError

    from signer.errors import SignerError, TimestampError

    signer = KeySigner(key, certificate, chain, digest=digest, scheme=scheme)
    try:
        content_info: cms.ContentInfo = asyncio.run(signer.async_sign_general_data(
            data, digest.value, detached=True, use_cades=True, timestamper=timestamper,
        ))
    except TimestampRequestError as exc:
        raise TimestampError(f"không lấy được dấu thời gian / the TSA failed: {exc}") from exc
    except SigningError as exc:
        raise SignerError(f"không tạo được chữ ký CAdES / cannot build the CAdES signature: {exc}") from exc
    return content_info.dump()
