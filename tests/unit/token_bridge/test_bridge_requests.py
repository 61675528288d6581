"""Parsing a signature request (no token): what is accepted, and the exact reason for what is not."""

from __future__ import annotations

import base64

import pytest

from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.errors import InvalidSignRequest
from token_bridge.signing import Requester, SignatureRequest

BODY = {
    "certificate_id": "AB" * 32,
    "digest": base64.b64encode(b"\x01" * 48).decode(),
    "digest_algorithm": "sha384",
    "signature_algorithm": "rsassa_pss",
    "description": "  Quyết định 12/QĐ-UBND  ",
}


def test_a_good_body_becomes_a_request():
    request = SignatureRequest.from_json(BODY)
    assert request == SignatureRequest(certificate_id="ab" * 32, digest=b"\x01" * 48,
                                       digest_algorithm=DigestAlgorithm.SHA384, scheme=SignatureScheme.RSA_PSS,
                                       description="Quyết định 12/QĐ-UBND")


@pytest.mark.parametrize(
    "body, message",
    [
        ([1, 2], "The request body must be a JSON object."),
        ({**BODY, "digest": 5}, "Field digest must be a string."),
        ({**BODY, "digest": "AQID"}, "The digest is 3 bytes; sha384 digests are 48 bytes."),
        ({**BODY, "digest": "AQ=ID"}, "Field digest is not valid base64."),
        ({**BODY, "description": "x" * 2001}, "Field description is longer than 2000 characters."),
        ({**BODY, "description": "a\tb"},
         "Field description contains a character that is not allowed: U+0009 (control character)."),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(body, message):
    with pytest.raises(InvalidSignRequest) as caught:
        SignatureRequest.from_json(body)
    assert str(caught.value) == message
    assert caught.value.http_status == 400


def test_requester_user_agent_is_printable_and_short():
    requester = Requester(origin=None, client="evil\r\nĐồng ý\u202e" + "x" * 300)
    assert requester.client.startswith("evilĐồng ý") and len(requester.client) == 200
    assert requester.shown.startswith("local application (evilĐồng ý")
