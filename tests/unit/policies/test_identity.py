from asn1crypto import x509

from policies.identity import HolderKind, IdentifierKind, parse_identifier, parse_name


def _name(*pairs):
    # Build in the given order (x509.Name.build sorts attributes, which loses the OU order).
    rdns = [x509.Name.build({t: v}, use_printable=False).chosen[0] for t, v in pairs]
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def test_person_with_citizen_id_units_in_order_and_title():
    identity = parse_name(_name(
        ("country_name", "VN"),
        ("organization_name", "UBND thành phố Hà Nội"),
        ("organizational_unit_name", "Văn phòng"),
        ("organizational_unit_name", "Sở Nội vụ"),
        ("title", "Giám đốc"),
        ("common_name", "Nguyễn Thị Hằng"),
        ("user_id", "CCCD:001190012345"),
    ))
    assert identity.common_name == "Nguyễn Thị Hằng"
    assert identity.units == ("Văn phòng", "Sở Nội vụ")
    assert identity.title == "Giám đốc"
    assert identity.identifiers_of(IdentifierKind.CCCD) == ("001190012345",)
    assert identity.holder_kind is HolderKind.PERSON


def test_organisation_with_branch_tax_code_is_an_organisation():
    identity = parse_name(_name(("common_name", "Sở Tư pháp"), ("user_id", "MST:0100686209-199")))
    assert identity.holder_kind is HolderKind.ORGANISATION
    assert identity.identifiers_of(IdentifierKind.MST) == ("0100686209-199",)


def test_person_id_wins_over_organisation_id():
    identity = parse_name(_name(("user_id", "MST:0100686209"), ("user_id", "CMND:012345678")))
    assert identity.holder_kind is HolderKind.PERSON


def test_new_national_format_and_semantic_identifiers():
    assert parse_identifier("001190012345", source="serial_number").kind is IdentifierKind.CCCD
    assert parse_identifier("VATVN-0100686209", source="organization_identifier").value == "0100686209"
    assert parse_identifier("mns : 1234567", source="uid").kind is IdentifierKind.MNS
    odd = parse_identifier("ABC-123", source="uid")
    assert (odd.kind, odd.value) == (IdentifierKind.OTHER, "ABC-123")


def test_subject_without_identifiers_is_unknown_holder():
    identity = parse_name(_name(("common_name", "Some CA")))
    assert identity.holder_kind is HolderKind.UNKNOWN
    assert identity.identifiers == ()
