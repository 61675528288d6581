from datetime import datetime, timedelta, timezone

import pytest

from verifier import SettingsError, ValidationSettings
from verifier.fetching import HttpSettings, UrlRewrite
from verifier.timing import compare_claim

T = datetime(2026, 11, 29, 2, 37, 36, tzinfo=timezone.utc)
TOLERANCE, QUIRK = timedelta(minutes=5), timedelta(hours=7)


def test_local_time_labelled_utc_is_recognised_one_tolerance_either_side():
    (message,) = compare_claim(T + QUIRK + TOLERANCE, T, tolerance=TOLERANCE, quirk=QUIRK)
    assert message.code == "time.local-time-quirk"
    assert message.en.startswith("the claimed signing time 2026-11-29T09:42:36+00:00 (as written) is 7 h after the timestamp")
    (beyond,) = compare_claim(T + QUIRK + TOLERANCE + timedelta(seconds=1), T, tolerance=TOLERANCE, quirk=QUIRK)
    assert beyond.code == "time.claim-mismatch"


def test_claims_within_tolerance_say_nothing_and_others_warn():
    assert compare_claim(T + TOLERANCE, T, tolerance=TOLERANCE, quirk=QUIRK) == ()
    assert compare_claim(None, T, tolerance=TOLERANCE, quirk=QUIRK) == ()
    (message,) = compare_claim(T - timedelta(hours=2), T, tolerance=TOLERANCE, quirk=QUIRK)
    assert (message.code, message.severity.value) == ("time.claim-mismatch", "warning")
    assert "-120 minutes" in message.en


def test_url_rewrites_replace_the_first_matching_prefix():
    http = HttpSettings(rewrites=(UrlRewrite("http://ocsp.ca.ptc", "http://ocsp.ca.gov.vn"),))
    assert http.rewrite("http://ocsp.ca.ptc/") == "http://ocsp.ca.gov.vn/"
    assert http.rewrite("http://ca.gov.vn/pki/pub/crl/cp.crl") == "http://ca.gov.vn/pki/pub/crl/cp.crl"


def test_settings_from_config(tmp_path):
    settings = ValidationSettings.from_config({
        "offline": "true", "timeout": 120, "retries": 3, "anchors": ["vgca-g2-root"],
        "url_rewrites": {"http://ocsp.ca.ptc": "http://ocsp.ca.gov.vn"},
    }, base=tmp_path)
    assert settings.offline and settings.http.timeout == 120.0 and settings.http.retries == 3
    assert [p.key for p in settings.anchors.pins if p.enabled] == ["vgca-g2-root"]
    assert settings.http.rewrite("http://ocsp.ca.ptc/x") == "http://ocsp.ca.gov.vn/x"


def test_the_internal_vgca_ocsp_address_is_rewritten_by_default_and_configuration_comes_first(tmp_path):
    assert ValidationSettings().http.rewrite("http://ocsp.ca.ptc/") == "http://ocsp.ca.gov.vn/"
    settings = ValidationSettings.from_config({"url_rewrites": {"http://ocsp.ca.ptc": "http://mirror.local"}},
                                              base=tmp_path)
    assert settings.http.rewrite("http://ocsp.ca.ptc/") == "http://mirror.local/"


@pytest.mark.parametrize("mapping, message", [
    ({"ofline": True}, "unknown key(s) ofline"),
    ({"trust": ["missing.pem"]}, "cannot read certificate file"),
    ({"trust_store": "nowhere"}, "certificate folder"),
    ({"anchors": ["vgca-g9"]}, "unknown trust anchor(s) vgca-g9"),
    ({"offline": "maybe"}, "expected true or false"),
    ({"url_rewrites": ["x"]}, "url_rewrites must be a table"),
])
def test_bad_settings_name_what_is_wrong(tmp_path, mapping, message):
    with pytest.raises(SettingsError) as caught:
        ValidationSettings.from_config(mapping, base=tmp_path)
    assert message in str(caught.value)


def test_a_claim_in_the_future_is_flagged_and_the_quirk_named_when_it_fits():
    from verifier.timing import future_claim

    assert future_claim(T + TOLERANCE, T, tolerance=TOLERANCE, quirk=QUIRK) == ()
    (likely,) = future_claim(T + timedelta(hours=6), T, tolerance=TOLERANCE, quirk=QUIRK)
    assert likely.code == "time.claim-in-future"
    assert likely.en.endswith("is 360 minutes in the future; probably local time labelled as UTC (+7 h quirk)")
    (far,) = future_claim(T + timedelta(days=2), T, tolerance=TOLERANCE, quirk=QUIRK)
    assert far.en.endswith("is 2880 minutes in the future")
