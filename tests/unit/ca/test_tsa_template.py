"""Time-stamp tokens from pre-built parts: the same bytes as asn1crypto's encoding, serials from blocks."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from asn1crypto import tsp

from ca import der
from ca.authority import TimeStampUnit
from ca.serials import SerialBlocks
from ca.store import JOURNAL_BATCH, timestamps
from ca.tsa import TimeStampResponse, TokenTemplate, _directory_name_der, sign_content
from signer.keys import InMemoryKey
from tests.support.pki import time_stamp_request as ts_request
from tests.unit.ca.conftest import CA_ORG, NOW


def reference_token(unit: TimeStampUnit, *, request: tsp.TimeStampReq, serial: int, nonce, cert_req: bool) -> bytes:
    """The token as asn1crypto builds it from values (the way kyso built every token before issue 12)."""
    from asn1crypto import x509

    tst_info = tsp.TSTInfo({
        "version": "v1", "policy": unit.policy, "message_imprint": request["message_imprint"],
        "serial_number": serial, "gen_time": NOW, "accuracy": {"seconds": unit.accuracy_seconds},
        "ordering": False, "nonce": nonce,
        "tsa": x509.GeneralName.load(_directory_name_der(unit.certificate.subject.dump())),
    })
    return sign_content(
        tst_info.dump(), content_type="tst_info", key=unit.key, certificate=unit.certificate,
        certificates=(unit.certificate, *unit.chain) if cert_req else (), signing_time=None,
    ).dump()


def rsa_unit(authority) -> TimeStampUnit:
    # PKCS#1 v1.5 signatures are deterministic, so two encodings of one token can be compared byte for byte.
    key = InMemoryKey.generate_rsa()
    issued = authority.issue(issuer="gov", profile="tsa", public_key=key.public_key_info(),
                             attributes=[("country_name", "VN"), CA_ORG, ("common_name", "RSA TSA")])
    return TimeStampUnit(issued.certificate, key, issued.chain, accuracy_seconds=2)


def test_template_tokens_equal_asn1crypto_encoding_byte_for_byte(authority):
    unit = rsa_unit(authority)
    template = TokenTemplate.build(unit)
    for nonce, cert_req, serial in [(7, True, 1 << 20), (None, False, (5 << 20) + 3), (-129, True, 2**127 - 1),
                                    (2**70, False, 128)]:
        request = tsp.TimeStampReq.load(ts_request(b"van ban", nonce=nonce, cert_req=cert_req))
        fast = template.token(imprint_der=request["message_imprint"].dump(), serial=serial, gen_time=NOW,
                              nonce=nonce, cert_req=cert_req)
        assert fast == reference_token(unit, request=request, serial=serial, nonce=nonce, cert_req=cert_req)


def test_granted_response_is_the_rfc_3161_structure(authority):
    response_der = authority.stamp(ts_request(b"x", nonce=11))
    response = TimeStampResponse.load(response_der)
    assert response.dump(force=True) == response_der  # asn1crypto re-encodes it to the same DER
    assert response["status"]["status"].native == "granted"
    assert response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed["nonce"].native == 11


def test_der_integers_and_lengths_match_x690():
    assert der.integer(0) == b"\x02\x01\x00"
    assert der.integer(128) == b"\x02\x02\x00\x80"
    assert der.integer(-128) == b"\x02\x01\x80"
    assert der.integer(-129) == b"\x02\x02\xff\x7f"
    assert der.length(127) == b"\x7f"
    assert der.length(128) == b"\x81\x80"
    assert der.length(70000) == b"\x83\x01\x11\x70"
    assert der.set_of(b"\x04\x01\x02", b"\x02\x01\x01") == b"\x31\x06\x02\x01\x01\x04\x01\x02"


def test_serial_blocks_reserve_once_per_block_and_never_repeat():
    reserved = []

    def reserve():
        reserved.append(len(reserved) + 1)
        return reserved[-1]

    blocks = SerialBlocks(reserve, block_bits=2)
    assert [blocks.next_serial() for _ in range(6)] == [4, 5, 6, 7, 8, 9]
    assert reserved == [1, 2]


def test_concurrent_tokens_get_unique_serials_and_every_one_is_recorded(authority):
    serials: list[int] = []
    lock = threading.Lock()

    def stamp(count):
        for index in range(count):
            response = TimeStampResponse.load(authority.stamp(ts_request(b"x", nonce=index)))
            with lock:
                serials.append(response["time_stamp_token"]["content"]["encap_content_info"]["content"]
                               .parsed["serial_number"].native)

    threads = [threading.Thread(target=stamp, args=(JOURNAL_BATCH // 4 + 10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = 4 * (JOURNAL_BATCH // 4 + 10)
    assert sorted(serials) == [(1 << 20) + index for index in range(total)]  # one block, no gap, no repeat
    contents = authority.store.table_contents()  # writes out the batch still waiting
    assert sorted(int(row[1], 16) for row in contents["ca_timestamps"]) == sorted(serials)
    assert [(row[0], row[1]) for row in contents["ca_serial_blocks"]] == [(1, "tsa")]


def test_a_second_authority_on_the_same_database_takes_the_next_block(authority, tmp_path, clock):
    from ca.authority import Authority
    from ca.endpoints import PkiEndpoints
    from ca.store import Store

    first = TimeStampResponse.load(authority.stamp(ts_request(b"x")))
    other_store = Store.open(str(authority.store.engine.url))
    try:
        other = Authority(store=other_store, endpoints=PkiEndpoints("http://pki.test"), clock=clock)
        other.set_time_stamp_unit(authority.tsa)
        second = TimeStampResponse.load(other.stamp(ts_request(b"y")))
    finally:
        other_store.close()
    serial = lambda response: response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed[
        "serial_number"].native
    assert (serial(first), serial(second)) == (1 << 20, 2 << 20)


def test_waiting_records_are_written_within_the_delay(authority):
    import time

    authority.stamp(ts_request(b"x"))
    deadline = time.monotonic() + 30
    count = 0
    while time.monotonic() < deadline and count == 0:
        with authority.store.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(timestamps)).scalar_one()
        time.sleep(0.05)
    assert count == 1
