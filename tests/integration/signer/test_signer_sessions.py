"""Hash-only signing: prepare returns a digest and a storable state; complete checks what comes back."""

from __future__ import annotations

import hashlib
import json

import pytest

from policies.keys import DigestAlgorithm, SignatureScheme
from signer import (
    InMemoryUsedStates,
    PadesLevel,
    Placement,
    SignatureKind,
    SignatureRequest,
    SigningState,
    complete,
    prepare,
)
from signer.errors import SignatureValueMismatch, StateAlreadyUsed, StateInvalid
from tests.support import documents


def _prepare(pki, environment, signature_stamp, official="official_ec", **extra):
    entity = pki.entity(official)
    request = SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp, title="GIÁM ĐỐC",
                               signer_name=documents.SIGNER_NAME, **extra)
    return entity, prepare(documents.sample_decision(), certificate=entity.certificate, chain=entity.chain,
                           request=request, environment=environment)


@pytest.mark.integration
def test_state_survives_storage_and_completes_once(pki, environment, signature_stamp, judge_statuses, pdfsig):
    entity, prepared = _prepare(pki, environment, signature_stamp, level=PadesLevel.B_T)
    assert prepared.digest == hashlib.sha256(prepared.state.signed_attributes).digest()
    assert prepared.digest_algorithm is DigestAlgorithm.SHA256 and prepared.scheme is SignatureScheme.ECDSA

    stored = prepared.state.to_json()  # what the service keeps in its database
    restored = SigningState.from_json(stored)
    assert restored == prepared.state
    value = entity.key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm,
                                   scheme=prepared.scheme)
    used = InMemoryUsedStates()
    signed = complete(restored, value, environment=environment, used_states=used)

    status = judge_statuses(signed.pdf)[signed.field_name]
    assert status.bottom_line and status.timestamp_validity.valid
    (judged,) = pdfsig(signed.pdf)
    assert judged.signature_valid and judged.certificate_trusted

    with pytest.raises(StateAlreadyUsed) as caught:
        complete(SigningState.from_json(stored), value, environment=environment, used_states=used)
    assert str(caught.value) == (
        "trạng thái ký này đã được dùng để hoàn tất một chữ ký / this signing state was already completed"
    )


@pytest.mark.integration
def test_signature_over_another_digest_is_refused(pki, environment, signature_stamp):
    entity, prepared = _prepare(pki, environment, signature_stamp)
    other = hashlib.sha256(b"another document").digest()
    value = entity.key.sign_digest(other, digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    used = InMemoryUsedStates()
    with pytest.raises(SignatureValueMismatch) as caught:
        complete(prepared.state, value, environment=environment, used_states=used)
    assert str(caught.value) == (
        "giá trị chữ ký không khớp với bản tóm lược đã chuẩn bị hoặc không do khóa của chứng thư ký / "
        "the signature value is not over the prepared digest or not made by the certificate's key"
    )
    # a refused value does not burn the state: the right signature still completes it
    good = entity.key.sign_digest(prepared.digest, digest_algorithm=DigestAlgorithm.SHA256,
                                  scheme=SignatureScheme.ECDSA)
    assert complete(prepared.state, good, environment=environment, used_states=used).pdf.startswith(b"%PDF")


@pytest.mark.integration
def test_signature_by_another_key_is_refused(pki, environment, signature_stamp):
    _, prepared = _prepare(pki, environment, signature_stamp)
    intruder = pki.agency_ec  # an EC key too, so only the key differs
    value = intruder.key.sign_digest(prepared.digest, digest_algorithm=DigestAlgorithm.SHA256,
                                     scheme=SignatureScheme.ECDSA)
    with pytest.raises(SignatureValueMismatch):
        complete(prepared.state, value, environment=environment, used_states=InMemoryUsedStates())


@pytest.mark.integration
def test_rsa_pss_when_asked(pki, environment, signature_stamp, judge_statuses, pdfsig):
    entity, prepared = _prepare(pki, environment, signature_stamp, official="official_rsa",
                                scheme=SignatureScheme.RSA_PSS)
    value = entity.key.sign_digest(prepared.digest, digest_algorithm=DigestAlgorithm.SHA256,
                                   scheme=SignatureScheme.RSA_PSS)
    signed = complete(prepared.state, value, environment=environment, used_states=InMemoryUsedStates())
    status = judge_statuses(signed.pdf)[signed.field_name]
    assert status.bottom_line
    assert status.md_algorithm == "sha256" and status.pkcs7_signature_mechanism == "rsassa_pss"
    (judged,) = pdfsig(signed.pdf)
    assert judged.signature_valid and judged.certificate_trusted, judged.raw


@pytest.mark.integration
def test_tampered_state_is_invalid(pki, environment, signature_stamp):
    _, prepared = _prepare(pki, environment, signature_stamp)
    data = json.loads(prepared.state.to_json())
    data["reserved_end"] = len(prepared.state.document) + 10
    with pytest.raises(StateInvalid) as caught:
        SigningState.from_json(json.dumps(data))
    assert str(caught.value) == (
        "trạng thái ký không hợp lệ / invalid signing state: the reserved region lies outside the document"
    )
    with pytest.raises(StateInvalid):
        SigningState.from_json('{"version": 99}')


@pytest.mark.integration
def test_named_empty_field_and_explicit_box(pki, environment, signature_stamp, judge_statuses, pdfsig):
    entity = pki.official_ec
    with_field = documents.decision_pdf(empty_field="ChuKyGiamDoc")
    signed = prepare(with_field, certificate=entity.certificate, chain=entity.chain, environment=environment,
                     request=SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp,
                                              placement=Placement(field_name="ChuKyGiamDoc")))
    assert signed.state.field_name == "ChuKyGiamDoc"
    value = entity.key.sign_digest(signed.digest, digest_algorithm=DigestAlgorithm.SHA256,
                                   scheme=SignatureScheme.ECDSA)
    done = complete(signed.state, value, environment=environment, used_states=InMemoryUsedStates())
    assert judge_statuses(done.pdf)["ChuKyGiamDoc"].bottom_line
    assert [s.field for s in pdfsig(done.pdf) if s.signature_valid] == ["ChuKyGiamDoc"]

    boxed = prepare(documents.sample_decision(), certificate=entity.certificate, chain=entity.chain,
                    environment=environment,
                    request=SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp,
                                             placement=Placement(page=0, box=(100, 100, 250, 160))))
    value = entity.key.sign_digest(boxed.digest, digest_algorithm=DigestAlgorithm.SHA256,
                                   scheme=SignatureScheme.ECDSA)
    done = complete(boxed.state, value, environment=environment, used_states=InMemoryUsedStates())
    assert judge_statuses(done.pdf)[done.field_name].bottom_line


@pytest.mark.integration
def test_block_found_from_the_certificate_name_when_titles_differ(pki, environment, signature_stamp):
    from signer.layout import find_signature_block

    entity = pki.official_rsa  # title "Chánh Văn phòng" in the certificate, "GIÁM ĐỐC" in the document
    prepared = prepare(documents.sample_decision(), certificate=entity.certificate, chain=entity.chain,
                       environment=environment,
                       request=SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp))
    value = entity.key.sign_digest(prepared.digest, digest_algorithm=prepared.digest_algorithm,
                                   scheme=prepared.scheme)
    signed = complete(prepared.state, value, environment=environment, used_states=InMemoryUsedStates())
    from pyhanko.pdf_utils.reader import PdfFileReader
    import io

    (embedded,) = PdfFileReader(io.BytesIO(signed.pdf)).embedded_signatures
    x0, y0, x1, y1 = (float(v) for v in embedded.sig_field["/Kids"][0].get_object()["/Rect"])
    block = find_signature_block(documents.sample_decision(), page_count=1, title="GIÁM ĐỐC",
                                 name=documents.SIGNER_NAME)
    assert (x0 + x1) / 2 == pytest.approx(block.centre_x, abs=0.5)
    assert (y0 + y1) / 2 == pytest.approx(block.centre_y, abs=0.5)


@pytest.mark.integration
@pytest.mark.parametrize("digest", [DigestAlgorithm.SHA384, DigestAlgorithm.SHA512])
def test_stronger_digests_when_asked(pki, environment, signature_stamp, judge_statuses, pdfsig, digest):
    entity, prepared = _prepare(pki, environment, signature_stamp, official="official_rsa", digest_algorithm=digest)
    assert len(prepared.digest) == digest.digest_size
    value = entity.key.sign_digest(prepared.digest, digest_algorithm=digest, scheme=prepared.scheme)
    signed = complete(prepared.state, value, environment=environment, used_states=InMemoryUsedStates())
    status = judge_statuses(signed.pdf)[signed.field_name]
    assert status.bottom_line and status.md_algorithm == digest.value
    (judged,) = pdfsig(signed.pdf)
    assert judged.signature_valid and judged.certificate_trusted, judged.raw
    assert f"Signing Hash Algorithm: {digest.value.upper().replace('SHA', 'SHA-')}" in judged.raw


class _FlakyTsa:
    """A WSGI proxy in front of the test TSA that answers 503 to the first `failures` requests."""

    def __init__(self, target: str, failures: int):
        self.target, self.failures, self.seen = target, failures, 0

    def __call__(self, environ, start_response):
        import requests

        self.seen += 1
        if self.seen <= self.failures:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        answer = requests.post(self.target, data=body, headers={"Content-Type": "application/timestamp-query"},
                               timeout=30)
        start_response(f"{answer.status_code} OK", [("Content-Type", answer.headers["Content-Type"])])
        return [answer.content]


@pytest.mark.integration
def test_a_busy_tsa_is_retried(pki, signature_stamp, wsgi_server, judge_statuses):
    from signer import SigningEnvironment, sign_pdf
    from signer.errors import TimestampError

    flaky = _FlakyTsa(pki.tsa_url, failures=1)
    url = wsgi_server(flaky) + "/tsa"
    entity = pki.official_ec
    request = SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T, signature_image=signature_stamp,
                               title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME)
    patient = SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=url, tsa_attempts=2)
    signed = sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate,
                      chain=entity.chain, request=request, environment=patient)
    assert flaky.seen == 2
    assert judge_statuses(signed.pdf)[signed.field_name].timestamp_validity.valid

    flaky.seen = 0
    impatient = SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=url, tsa_attempts=1)
    with pytest.raises(TimestampError) as caught:
        sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=request, environment=impatient)
    assert str(caught.value).startswith("không lấy được dấu thời gian / the TSA failed: ")
    assert flaky.seen == 1


@pytest.mark.integration
def test_one_environment_signs_in_parallel_threads(pki, environment, signature_stamp, judge_statuses):
    from concurrent.futures import ThreadPoolExecutor

    from signer import sign_pdf

    entities = [pki.official_rsa, pki.official_ec, pki.official_rsa, pki.official_ec]

    def one(entity):
        return sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate,
                        chain=entity.chain, environment=environment,
                        request=SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T,
                                                 signature_image=signature_stamp, title="GIÁM ĐỐC",
                                                 signer_name=documents.SIGNER_NAME))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, entities))
    for entity, signed in zip(entities, results):
        status = judge_statuses(signed.pdf)[signed.field_name]
        assert status.bottom_line and status.timestamp_validity.valid
        assert status.signing_cert.dump() == entity.certificate.dump()
