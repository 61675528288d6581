"""Certificate profiles as data: the subject and key checks the CA runs before it signs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from policies.profiles import SubjectViolation, UnknownProfile, WeakKey, default_profiles, parse_profiles
from signer.keys import InMemoryKey

PERSON = [("country_name", "VN"), ("organization_name", "UBND Phường Hoàn Kiếm"),
          ("organizational_unit_name", "Văn phòng"), ("organizational_unit_name", "Lãnh đạo"),
          ("title", "Chủ tịch"), ("common_name", "Nguyễn Văn An"), ("user_id", "CCCD:001085012345")]
AGENCY = [("country_name", "VN"), ("organization_name", "UBND Thành phố Hà Nội"),
          ("common_name", "UBND Phường Hoàn Kiếm"), ("user_id", "MST:0100686209-199")]


def test_shipped_profiles_are_the_ones_of_issue_2():
    profiles = default_profiles()
    assert sorted(profiles.profiles) == ["agency", "issuing-ca", "ocsp", "personal", "root-ca", "tsa"]
    assert profiles.get("personal").max_validity_days == 1826
    assert profiles.get("agency").max_validity_days == 1826
    assert profiles.get("tsa").extended_key_usage == ("time_stamping",)
    assert profiles.get("tsa").extended_key_usage_critical is True
    assert profiles.get("ocsp").ocsp_no_check is True


def test_valid_person_and_agency_subjects_pass():
    profiles = default_profiles()
    # check_subject raises SubjectViolation on the first attribute that does not fit; None means it passed.
    assert profiles.get("personal").check_subject(PERSON) is None
    assert profiles.get("agency").check_subject(AGENCY) is None


@pytest.mark.parametrize(
    "profile, attributes, english",
    [
        ("agency", AGENCY[:-1] + [("user_id", "CCCD:001085012345")],
         "profile agency does not allow a CCCD identifier (allowed: MST, MNS)"),
        ("personal", PERSON[:-1] + [("user_id", "MST:0101234567")],
         "profile personal does not allow a MST identifier (allowed: CCCD, CMND, HC)"),
        ("personal", PERSON[:-1], "profile personal requires the subject attribute UID"),
        ("personal", PERSON[:-1] + [("user_id", "CCCD:12345")], "CCCD identifier '12345' is malformed"),
        ("personal", PERSON[:-1] + [("user_id", "001085012345")],
         "UID '001085012345' has no known prefix (CCCD:, CMND:, HC:, MST:, MNS:)"),
        ("personal", [("country_name", "US")] + PERSON[1:], "country (C) must be VN, not US"),
        ("personal", PERSON + [("street_address", "1 Tràng Tiền")],
         "profile personal does not allow the subject attribute street_address"),
        ("personal", PERSON + [("common_name", "Người thứ hai")], "subject attribute CN may appear only once"),
        ("agency", AGENCY + [("title", "Văn thư")], "profile agency does not allow the subject attribute T"),
        ("personal", PERSON[:-2] + [("common_name", "  "), PERSON[-1]], "subject attribute CN is empty"),
    ],
)
def test_subject_violations_name_the_reason(profile, attributes, english):
    with pytest.raises(SubjectViolation) as caught:
        default_profiles().get(profile).check_subject(attributes)
    assert caught.value.english == english
    assert str(caught.value).endswith(" / " + english)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(UnknownProfile) as caught:
        default_profiles().get("seal")
    assert caught.value.english == (
        "unknown certificate profile 'seal' (known: agency, issuing-ca, ocsp, personal, root-ca, tsa)"
    )


def test_key_strength_rules():
    profiles = default_profiles()
    profiles.check_public_key(InMemoryKey.generate_ec().public_key_info())
    profiles.check_public_key(InMemoryKey(rsa.generate_private_key(public_exponent=65537, key_size=2048)).public_key_info())
    with pytest.raises(WeakKey) as caught:
        profiles.check_public_key(InMemoryKey(rsa.generate_private_key(public_exponent=65537, key_size=1024)).public_key_info())
    assert caught.value.english == "RSA key of 1024 bits is too weak (minimum 2048)"
    with pytest.raises(WeakKey) as caught:
        profiles.check_public_key(InMemoryKey(ec.generate_private_key(ec.SECP256K1())).public_key_info())
    assert caught.value.english == "EC curve secp256k1 is not allowed (allowed: secp256r1, secp384r1, secp521r1)"


def test_profile_files_reject_unknown_keys():
    with pytest.raises(ValueError, match="certificate profile x: unknown key\\(s\\) colour"):
        parse_profiles(
            '[profiles.x]\ndescription="x"\nholder="person"\nkey_usage=[]\nmax_validity_days=1\n'
            'required_attributes=[]\nallowed_attributes=[]\nrevocation_pointers=false\ncolour="red"\n'
        )
