import pytest

from verifier import ValidationSettings, Verifier, VerifierError
from verifier.fetching import HttpCache


def test_a_closed_verifier_says_so():
    verifier = Verifier(ValidationSettings(offline=True))
    assert verifier.verify_pdf(b"not a pdf").indication.value == "TOTAL_FAILED"
    verifier.close()
    with pytest.raises(VerifierError, match="this Verifier is closed; create a new one"):
        verifier.verify_pdf(b"%PDF-1.7")


def test_the_http_cache_expires_and_remembers_where_bodies_came_from():
    cache = HttpCache(ttl=0)
    cache.put(("GET", "http://ca.gov.vn/pki/pub/crl/cp.crl", None), b"crl")
    assert cache.get(("GET", "http://ca.gov.vn/pki/pub/crl/cp.crl", None)) is None  # ttl 0: already stale
    cache.remember("http://ca.gov.vn/pki/pub/crl/cp.crl", b"crl bytes")
    assert cache.url_of(b"crl bytes") == "http://ca.gov.vn/pki/pub/crl/cp.crl"
    assert cache.url_of(b"other") is None
    assert cache.fetched == ["http://ca.gov.vn/pki/pub/crl/cp.crl"]


def test_no_trust_anchor_means_no_operating_system_fallback():
    # DESIGN.md pitfall: never the OS trust list. A verifier with no roots trusts nothing.
    verifier = Verifier(ValidationSettings(offline=True))
    assert verifier.anchors == ()
    verifier.close()
