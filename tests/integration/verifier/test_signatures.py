"""Signatures judged against the shared test PKI on loopback (CRL, OCSP, TSA) and a few foreign shapes."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from pyhanko.sign import timestamps
from pyhanko_certvalidator import ValidationContext

from policies.validation import ValidationPolicy
from tests.support.documents import sample_decision
from tests.support.verifier import sign_pdf, simple_signer
from verifier import Indication, Modifications, SignatureKind, SubIndication, TimeSource
from verifier.fetching import HttpSettings, UrlRewrite
from verifier.report import Severity, iso


def _only(report):
    assert len(report.signatures) == 1, report.to_json()
    return report.signatures[0]


def _codes(signature):
    return [m.code for m in signature.messages]


def _message(signature, code):
    (found,) = [m for m in signature.messages if m.code == code]
    return found


@pytest.fixture(scope="module")
def strict_verifier(verifier_kit):
    """ETSI EN 319 102-1's time rule: without a timestamp the chain is judged at the validation time."""
    with verifier_kit.verifier(policy=ValidationPolicy.default().etsi_strict()) as verifier:
        yield verifier


@pytest.fixture(scope="module")
def personal_bt(verifier_kit):
    return sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())


def test_personal_signature_with_timestamp_passes_with_every_fact(shared_verifier, personal_bt, pki):
    report = shared_verifier.verify_pdf(personal_bt, path="quyet-dinh.pdf")
    assert report.indication is Indication.TOTAL_PASSED
    signature = _only(report)
    assert (signature.kind, signature.indication, signature.sub_indication) == (
        SignatureKind.PERSONAL, Indication.TOTAL_PASSED, None)
    assert signature.signer.common_name == "Trần Thị Bình"
    assert [str(i) for i in signature.signer.identifiers] == ["CCCD:001190054321"]
    assert signature.signing_time_source is TimeSource.TIMESTAMP
    assert signature.timestamp.tsa == "Dich vu cap dau thoi gian (Demo TSA)"
    assert signature.trust_anchor == "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)"
    assert signature.modifications is Modifications.NONE and signature.coverage == "entire_file"
    assert {(r.kind, r.source, r.certificate, r.url) for r in signature.revocation} >= {
        ("ocsp", "fetched", "Trần Thị Bình", pki.ocsp_url)}
    as_json = report.to_json(lang="vi")["signatures"][0]
    assert as_json["signing_time"].endswith("+07:00")
    assert as_json["messages"][0] == "chữ ký số hợp lệ"


def test_agency_signature_after_personal_keeps_both_valid(shared_verifier, personal_bt, verifier_kit):
    both = sign_pdf(personal_bt, verifier_kit.signer("agency_ec"), field="Signature2",
                    timestamper=verifier_kit.timestamper())
    report = shared_verifier.verify_pdf(both)
    assert report.indication is Indication.TOTAL_PASSED
    first, second = report.signatures
    assert (first.kind, second.kind) == (SignatureKind.PERSONAL, SignatureKind.AGENCY)
    assert first.modifications is Modifications.ALLOWED and first.change == "form_filling: fields Signature2"
    assert second.modifications is Modifications.NONE
    assert second.signer.common_name == "UBND Phường Hoàn Kiếm"


def test_document_timestamp_is_reported_and_keeps_the_signature_valid(shared_verifier, personal_bt, verifier_kit):
    from tests.support.verifier import add_document_timestamp

    lta = add_document_timestamp(personal_bt, verifier_kit.timestamper())
    report = shared_verifier.verify_pdf(lta)
    assert report.indication is Indication.TOTAL_PASSED
    signature, stamp = report.signatures
    assert stamp.kind is SignatureKind.TIMESTAMP and stamp.indication is Indication.TOTAL_PASSED
    assert signature.modifications is Modifications.ALLOWED and signature.change == "validation_data"


def test_revoked_before_the_proven_signing_time_is_revoked(shared_verifier, verifier_kit, pki):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), timestamper=verifier_kit.timestamper())
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "chain.revoked" in _codes(signature)
    assert "Lê Văn Cường" in signature.messages[-1].en


def test_revoked_after_a_timestamped_signature_still_passes(shared_verifier, verifier_kit, pki):
    before = pki.revoked.revoked_at - timedelta(days=1)
    with pki.clock.frozen_at(before):
        signed = sign_pdf(sample_decision(), verifier_kit.signer("revoked"),
                          timestamper=verifier_kit.timestamper(), claimed_time=before)
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert signature.signing_time == before


def test_revoked_without_timestamp_and_claim_after_revocation_is_revoked(shared_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("revoked"))
    signature = _only(shared_verifier.verify_pdf(signed))
    assert signature.signing_time_source is TimeSource.CLAIMED
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_revoked_without_timestamp_claiming_an_earlier_time_passes_as_self_declared(shared_verifier, verifier_kit,
                                                                                   pki):
    # Decree 68/2024 (the default policy): without a timestamp the claimed time is the signing time; a
    # revocation after it does not invalidate, and the report says the time is only the signer's word.
    claimed = pki.revoked.revoked_at - timedelta(days=2)
    signed = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), claimed_time=claimed)
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None), signature.to_json()
    assert (signature.signing_time, signature.signing_time_source) == (claimed, TimeSource.CLAIMED)
    declared = next(m for m in signature.messages if m.code == "time.self-declared")
    assert declared.severity is Severity.WARNING
    assert declared.en == (f"no trusted timestamp: the signing time {iso(claimed)} is self-declared by the signer and "
                           f"not proven; the certificates were judged at that time (Decree 68/2024)")
    assert declared.vi == (f"không có dấu thời gian tin cậy: thời gian ký {iso(claimed)} do người ký tự khai, chưa "
                           f"được chứng minh; chứng thư số được kiểm tra tại thời điểm đó (Nghị định 68/2024)")
    as_json = signature.to_json(lang="en")
    assert (as_json["signing_time_source"], as_json["indication"]) == ("claimed", "TOTAL_PASSED")


def test_revoked_without_timestamp_claiming_an_earlier_time_has_no_proof_under_etsi(strict_verifier, verifier_kit,
                                                                                   pki):
    claimed = pki.revoked.revoked_at - timedelta(days=2)
    signed = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), claimed_time=claimed)
    signature = _only(strict_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)
    assert signature.signing_time_source is TimeSource.CLAIMED
    assert "the certificates were judged at the validation time" in _message(signature, "time.self-declared").en


@pytest.mark.parametrize("policy", ["default", "etsi"])
def test_a_claim_one_second_either_side_of_the_revocation(policy, shared_verifier, strict_verifier, verifier_kit,
                                                          pki):
    verifier = shared_verifier if policy == "default" else strict_verifier
    revoked_at = pki.revoked.revoked_at
    before = _only(verifier.verify_pdf(sign_pdf(sample_decision(), verifier_kit.signer("revoked"),
                                                claimed_time=revoked_at - timedelta(seconds=1))))
    after = _only(verifier.verify_pdf(sign_pdf(sample_decision(), verifier_kit.signer("revoked"),
                                               claimed_time=revoked_at + timedelta(seconds=1))))
    expected_before = (Indication.TOTAL_PASSED, None) if policy == "default" else (
        Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE)
    assert (before.indication, before.sub_indication) == expected_before, before.to_json()
    # The signer's own claim puts the signature after the revocation: REVOKED under both policies.
    assert (after.indication, after.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "chain.revoked" in _codes(after)
    assert (after.signing_time, after.signing_time_source) == (revoked_at + timedelta(seconds=1), TimeSource.CLAIMED)


def test_expired_signer_with_a_timestamp_after_expiry_fails(shared_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("expired"), timestamper=verifier_kit.timestamper())
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)


def test_expired_signer_without_timestamp_claiming_now_is_expired(shared_verifier, verifier_kit):
    # The signer's own claim (now) is after the certificate's notAfter.
    signed = sign_pdf(sample_decision(), verifier_kit.signer("expired"))
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)
    assert signature.signing_time_source is TimeSource.CLAIMED


def test_expired_signer_without_timestamp_is_out_of_bounds_under_etsi(strict_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("expired"))
    signature = _only(strict_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)


def test_a_bb_signature_made_while_valid_verified_after_expiry(shared_verifier, strict_verifier, verifier_kit):
    not_after = verifier_kit.pki.expired.certificate["tbs_certificate"]["validity"]["not_after"].native
    last_second = sign_pdf(sample_decision(), verifier_kit.signer("expired"),
                           claimed_time=not_after - timedelta(seconds=1))
    one_too_late = sign_pdf(sample_decision(), verifier_kit.signer("expired"),
                            claimed_time=not_after + timedelta(seconds=1))

    vietnamese = _only(shared_verifier.verify_pdf(last_second))
    assert (vietnamese.indication, vietnamese.sub_indication) == (Indication.TOTAL_PASSED, None), vietnamese.to_json()
    assert (vietnamese.signing_time, vietnamese.signing_time_source) == (
        not_after - timedelta(seconds=1), TimeSource.CLAIMED)
    assert "time.self-declared" in _codes(vietnamese)
    late = _only(shared_verifier.verify_pdf(one_too_late))
    assert (late.indication, late.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)
    assert "chain.expired" in _codes(late)

    etsi = _only(strict_verifier.verify_pdf(last_second))
    assert (etsi.indication, etsi.sub_indication) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert etsi.signing_time_source is TimeSource.CLAIMED


def test_a_claim_one_second_either_side_of_not_before(shared_verifier, verifier_kit):
    not_before = verifier_kit.pki.entity("official_ec").certificate["tbs_certificate"]["validity"]["not_before"].native
    early = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"),
                     claimed_time=not_before - timedelta(seconds=1))
    first_second = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"),
                            claimed_time=not_before + timedelta(seconds=1))
    signature = _only(shared_verifier.verify_pdf(early))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID)
    assert "chain.not-yet-valid" in _codes(signature)
    passed = _only(shared_verifier.verify_pdf(first_second))
    assert (passed.indication, passed.sub_indication) == (Indication.TOTAL_PASSED, None), passed.to_json()


def test_a_claim_in_the_future_is_flagged_and_judged_now(shared_verifier, verifier_kit, pki):
    # Beyond the tolerance a claim cannot be the signing time: flagged, and the chain judged now. The
    # +7 h quirk is not corrected without a timestamp to prove the real time.
    claimed = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=7)
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), claimed_time=claimed)
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.signing_time, signature.signing_time_source) == (claimed, TimeSource.CLAIMED)
    assert "probably local time labelled as UTC (+7 h quirk)" in _message(signature, "time.claim-in-future").en
    assert "the certificates were judged at the validation time" in _message(signature, "time.self-declared").en
    assert "time.local-time-quirk" not in _codes(signature)
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None)


def test_untrusted_root_has_no_chain(shared_verifier, foreign_pki):
    signed = sign_pdf(sample_decision(), foreign_pki.untrusted_signer.signer())
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert signature.trust_anchor is None


def test_certificate_without_signing_key_usage_is_refused(shared_verifier, pki):
    # The issuing CA's own key (keyCertSign, cRLSign only) used to sign a document.
    gov = pki.gov
    signed = sign_pdf(sample_decision(), simple_signer(gov.key.private_key, gov.certificate, gov.chain))
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE)
    assert "key usage" in signature.messages[-1].en.lower()


def test_tampered_signed_bytes_fail_the_hash(shared_verifier, personal_bt):
    position = personal_bt.index(b"/MediaBox")
    tampered = personal_bt[:position] + b"/MediaBoy" + personal_bt[position + 9:]
    signature = _only(shared_verifier.verify_pdf(tampered))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert "crypto.hash" in _codes(signature)


def test_offline_without_embedded_revocation_data_is_indeterminate(verifier_kit, personal_bt):
    with verifier_kit.verifier(offline=True) as verifier:
        signature = _only(verifier.verify_pdf(personal_bt))
        assert verifier.fetched_urls == []
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    assert "chain.no-revocation" in _codes(signature)


def test_unreachable_revocation_servers_are_indeterminate(verifier_kit, personal_bt, pki):
    from tests.support.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    http = HttpSettings(timeout=2, retries=1, rewrites=(UrlRewrite(pki.base_url, dead),))
    with verifier_kit.verifier(http=http) as verifier:
        signature = _only(verifier.verify_pdf(personal_bt))
        assert verifier.fetched_urls == []
    assert (signature.indication, signature.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)


def test_url_rewrite_table_sends_fetches_to_the_public_address(verifier_kit, personal_bt, pki, wsgi_server):
    from service.pki import create_pki_app

    mirror = wsgi_server(create_pki_app(pki.authority))
    http = HttpSettings(rewrites=(UrlRewrite(pki.base_url, mirror),))
    with verifier_kit.verifier(http=http) as verifier:
        report = verifier.verify_pdf(personal_bt)
        fetched = verifier.fetched_urls
    assert report.indication is Indication.TOTAL_PASSED
    assert fetched and all(url.startswith(mirror + "/pki/") for url in fetched)


def test_embedded_validation_data_suffices_offline(verifier_kit, pki):
    context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True)
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_rsa"), timestamper=verifier_kit.timestamper(),
                      embed_validation_info=True, validation_context=context)
    with verifier_kit.verifier(offline=True) as verifier:
        signature = _only(verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert signature.revocation and {r.source for r in signature.revocation} == {"document"}


def test_sha1_document_signature_is_a_crypto_constraints_failure(shared_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_rsa"), md_algorithm="sha1")
    signature = _only(shared_verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
    assert "validation:algorithms:digest" in _codes(signature)


def test_rsa_1024_signer_is_a_crypto_constraints_failure(verifier_kit, foreign_pki):
    from verifier.validator import Verifier

    signed = sign_pdf(sample_decision(), foreign_pki.rsa1024_signer.signer())
    settings = dataclasses.replace(verifier_kit.settings(), explicit_roots=(("legacy", foreign_pki.legacy_root),),
                                   offline=True)
    with Verifier(settings) as verifier:
        signature = _only(verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
    assert "validation:algorithms:rsa-size" in _codes(signature)


def test_legacy_sha1_ca_chain_passes_with_a_warning(verifier_kit, foreign_pki):
    from verifier.validator import Verifier

    context = ValidationContext(trust_roots=[foreign_pki.legacy_root], crls=[foreign_pki.legacy_crl],
                                weak_hash_algos=set(), allow_fetching=False)
    signed = sign_pdf(sample_decision(), foreign_pki.legacy_signer.signer(), embed_validation_info=True,
                      validation_context=context)
    settings = dataclasses.replace(verifier_kit.settings(), explicit_roots=(("legacy", foreign_pki.legacy_root),),
                                   offline=True)
    with Verifier(settings) as verifier:
        signature = _only(verifier.verify_pdf(signed))
    assert signature.indication is Indication.TOTAL_PASSED, signature.to_json()
    assert "algorithms:legacy-sha1-ca" in _codes(signature)


def test_local_time_labelled_utc_is_reported_and_the_timestamp_wins(shared_verifier, verifier_kit, pki):
    moment = pki.anchor - timedelta(hours=3)
    with pki.clock.frozen_at(moment):
        signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"),
                          timestamper=verifier_kit.timestamper(), claimed_time=moment + timedelta(hours=7))
    signature = _only(shared_verifier.verify_pdf(signed))
    assert signature.indication is Indication.TOTAL_PASSED
    assert (signature.signing_time, signature.signing_time_source) == (moment, TimeSource.TIMESTAMP)
    assert signature.claimed_time == moment + timedelta(hours=7)
    assert "time.local-time-quirk" in _codes(signature)


def test_intermediates_come_from_aia_or_the_configured_store(verifier_kit, pki):
    # Like real VGCA PDFs: only the signer's certificate is embedded.
    entity = pki.official_rsa
    leaf_only = sign_pdf(sample_decision(), simple_signer(entity.key.private_key, entity.certificate, ()),
                         timestamper=verifier_kit.timestamper())
    with verifier_kit.verifier(allow_aia=False) as verifier:
        signature = _only(verifier.verify_pdf(leaf_only))
        assert not any(url.endswith("/gov.crt") for url in verifier.fetched_urls)
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    with verifier_kit.verifier(allow_aia=False, intermediates=(pki.gov.certificate,)) as verifier:
        assert _only(verifier.verify_pdf(leaf_only)).indication is Indication.TOTAL_PASSED
    with verifier_kit.verifier(allow_aia=True) as verifier:
        assert _only(verifier.verify_pdf(leaf_only)).indication is Indication.TOTAL_PASSED
        assert pki.base_url + "/pki/gov.crt" in verifier.fetched_urls


def test_a_document_timestamp_keeps_an_archived_signature_valid_after_its_tsa_expired(
        shared_verifier, strict_verifier, verifier_kit, pki):
    from signer.keys import InMemoryKey
    from tests.support.verifier import add_document_timestamp, private_key_info

    old_tsa = pki.issue(
        "old_tsa", profile="tsa", attributes=[("country_name", "VN"), ("organization_name", "Ban Co yeu Chinh phu"),
                                              ("common_name", "Dich vu cap dau thoi gian cu (Demo TSA 2025)")],
        not_before=pki.anchor - timedelta(days=60), not_after=pki.anchor - timedelta(days=28),
        key=InMemoryKey.generate_rsa(2048))  # pyHanko's DummyTimeStamper signs with RSA only
    signed_at = pki.anchor - timedelta(days=40)  # the signer's certificate expired at anchor - 35 d
    stamper = timestamps.DummyTimeStamper(old_tsa.certificate, private_key_info(old_tsa.key.private_key),
                                          certs_to_embed=old_tsa.chain, fixed_dt=signed_at)
    signed = sign_pdf(sample_decision(), verifier_kit.signer("expired"), timestamper=stamper, claimed_time=signed_at)

    # Alone, the signature timestamp proves nothing (its TSA expired): the signing time is the claim, valid for
    # the signer's certificate under the default policy, and without proof of existence under ETSI.
    alone = _only(shared_verifier.verify_pdf(signed))
    assert (alone.indication, alone.signing_time, alone.signing_time_source) == (
        Indication.TOTAL_PASSED, signed_at, TimeSource.CLAIMED)
    assert {"timestamp.untrusted", "time.self-declared"} <= set(_codes(alone))
    strict = _only(strict_verifier.verify_pdf(signed))
    assert (strict.indication, strict.sub_indication) == (Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE)
    assert "timestamp.untrusted" in _codes(strict)

    with pki.clock.frozen_at(pki.anchor - timedelta(days=29)):
        archived = add_document_timestamp(signed, verifier_kit.timestamper())
    report = shared_verifier.verify_pdf(archived)
    signature, stamp = report.signatures
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert (signature.signing_time, signature.signing_time_source) == (signed_at, TimeSource.TIMESTAMP)
    assert "timestamp.archived" in _codes(signature)
    assert stamp.signing_time == pki.anchor - timedelta(days=29)


def test_the_batch_chain_cache_never_carries_a_pass_past_a_revocation(verifier_kit, pki):
    before = pki.revoked.revoked_at - timedelta(days=1)
    with pki.clock.frozen_at(before):
        early = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), timestamper=verifier_kit.timestamper(),
                         claimed_time=before)
    late = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), timestamper=verifier_kit.timestamper())
    with verifier_kit.verifier() as verifier:  # one verifier: the early pass is cached first
        assert _only(verifier.verify_pdf(early)).indication is Indication.TOTAL_PASSED
        late_signature = _only(verifier.verify_pdf(late))
        assert late_signature.sub_indication is SubIndication.REVOKED
        assert _only(verifier.verify_pdf(early)).indication is Indication.TOTAL_PASSED


def test_a_legacy_sha1_ca_chain_is_refused_after_the_configured_date(verifier_kit, foreign_pki):
    from datetime import datetime, timezone

    from verifier.validator import Verifier

    context = ValidationContext(trust_roots=[foreign_pki.legacy_root], crls=[foreign_pki.legacy_crl],
                                weak_hash_algos=set(), allow_fetching=False)
    signed = sign_pdf(sample_decision(), foreign_pki.legacy_signer.signer(), embed_validation_info=True,
                      validation_context=context)
    base = verifier_kit.settings()
    expired_rule = dataclasses.replace(base.policy.algorithms, legacy_sha1_ca_until=datetime(2025, 1, 1, tzinfo=timezone.utc))
    settings = dataclasses.replace(base, explicit_roots=(("legacy", foreign_pki.legacy_root),), offline=True,
                                   policy=dataclasses.replace(base.policy, algorithms=expired_rule))
    with Verifier(settings) as verifier:
        signature = _only(verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
    assert "signed with SHA1, which is not allowed" in signature.messages[-1].en


def test_an_agency_signature_alone_is_noted_at_file_level(shared_verifier, verifier_kit, personal_bt):
    alone = sign_pdf(sample_decision(), verifier_kit.signer("agency_ec"), timestamper=verifier_kit.timestamper())
    report = shared_verifier.verify_pdf(alone)
    assert report.indication is Indication.TOTAL_PASSED  # a copy is signed this way: a finding, not a failure
    assert [m.code for m in report.messages] == ["order:agency-before-personal"]
    assert report.to_json("vi")["messages"][0].startswith("chữ ký thứ 1 là chữ ký số cơ quan")
    both = sign_pdf(personal_bt, verifier_kit.signer("agency_ec"), field="Signature2")
    assert shared_verifier.verify_pdf(both).messages == ()


def test_revocation_data_inside_the_signature_suffices_offline(verifier_kit, pki):
    # Adobe revocationInfoArchival (adbe.pkcs7.detached), what many Vietnamese signing tools write.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    import io

    context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True)
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
                                        embed_validation_info=True, validation_context=context)
    writer = IncrementalPdfFileWriter(io.BytesIO(sample_decision()), strict=False)
    signed = signers.PdfSigner(meta, verifier_kit.signer("official_rsa"),
                               timestamper=verifier_kit.timestamper()).sign_pdf(writer).getvalue()
    with verifier_kit.verifier(offline=True) as verifier:
        signature = _only(verifier.verify_pdf(signed))
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None), signature.to_json()
    assert {r.source for r in signature.revocation} == {"document"}


def test_a_flaky_revocation_server_is_retried_and_answers_are_cached(verifier_kit, personal_bt, pki, wsgi_server):
    from service.pki import create_pki_app

    app = create_pki_app(pki.authority)
    seen: list[str] = []

    def flaky(environ, start_response):
        seen.append(environ["PATH_INFO"])
        if seen.count(environ["PATH_INFO"]) == 1:  # every URL fails once
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        return app(environ, start_response)

    mirror = wsgi_server(flaky)
    http = HttpSettings(timeout=5, retries=2, rewrites=(UrlRewrite(pki.base_url, mirror),))
    with verifier_kit.verifier(http=http) as verifier:
        assert verifier.verify_pdf(personal_bt).indication is Indication.TOTAL_PASSED
        first = list(verifier.fetched_urls)
        assert verifier.verify_pdf(personal_bt).indication is Indication.TOTAL_PASSED
        assert verifier.fetched_urls == first  # the second file is served from the cache
    assert "/pki/ocsp" in seen and seen.count("/pki/ocsp") >= 2
