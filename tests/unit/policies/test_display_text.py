"""Issue 9, item 7: one allow-list for text a person consents to (policies/text.py). Every attack of the
issue is refused with the code point named; Vietnamese with every diacritic passes."""

import unicodedata

import pytest

from policies.text import DisplayTextRefused, find_text_problem, require_display_text

VIETNAMESE_VOWELS = "aăâeêioôơuưy"
TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def _all_vietnamese_letters() -> str:
    letters = []
    for vowel in VIETNAMESE_VOWELS + VIETNAMESE_VOWELS.upper():
        base = unicodedata.normalize("NFD", vowel)
        letters.append(vowel)
        letters.extend(unicodedata.normalize("NFC", base + tone) for tone in TONES)
    return "".join(letters) + "đĐ"


def test_vietnamese_letters_with_every_diacritic_pass():
    letters = _all_vietnamese_letters()
    assert len(letters) == 24 * 6 + 2
    assert require_display_text(letters, field="title", max_length=1000) == letters


def test_a_real_title_passes_and_decomposed_input_comes_back_composed():
    title = "Quyết định số 12/QĐ-UBND về việc phê duyệt “Đề án” (lần 2) – 100% kinh phí: 1.000.000₫; §3"
    assert require_display_text(title, field="title", max_length=1000) == title
    assert require_display_text(unicodedata.normalize("NFD", title), field="title", max_length=1000) == title


@pytest.mark.parametrize(
    "attack, code_point, english",
    [
        ("Quyết định\u2028Đồng ý ký? Có", 0x2028, "U+2028 (LINE SEPARATOR)"),
        ("Quyết định\u2029Đồng ý", 0x2029, "U+2029 (PARAGRAPH SEPARATOR)"),
        ("Hợp đồng \u202etxt.exe", 0x202E, "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("Hợp đồng \u2067x\u2069", 0x2067, "U+2067 (RIGHT-TO-LEFT ISOLATE)"),
        ("Ký\u200fnhanh", 0x200F, "U+200F (RIGHT-TO-LEFT MARK)"),
        ("Văn bản \u3164\u3164\u3164 ẩn", 0x3164, "U+3164 (HANGUL FILLER)"),
        ("Văn bản \u2800\u2800 ẩn", 0x2800, "U+2800 (BRAILLE PATTERN BLANK)"),
        ("Văn\u200bbản", 0x200B, "U+200B (ZERO WIDTH SPACE)"),
        ("Quyết định \u05e9\u05dc\u05d5\u05dd", 0x05E9, "U+05E9 (HEBREW LETTER SHIN)"),
        ("Quyết định \u0627\u0644", 0x0627, "U+0627 (ARABIC LETTER ALEF)"),
        ("Quyết định\n1", 0x000A, "U+000A (control character)"),
        ("\uff31uyết định", 0xFF31, "U+FF31 (FULLWIDTH LATIN CAPITAL LETTER Q)"),
        ("Đồng ý\u00ad", 0x00AD, "U+00AD (SOFT HYPHEN)"),
    ],
)
def test_consent_text_attacks_are_refused_naming_the_character(attack, code_point, english):
    with pytest.raises(DisplayTextRefused) as caught:
        require_display_text(attack, field="title", max_length=1000)
    assert caught.value.code_point == code_point
    assert caught.value.english == f"title contains a character that is not allowed: {english}"
    assert caught.value.vietnamese == f"title chứa ký tự không được phép {english}"


def test_a_flood_of_non_breaking_spaces_is_refused():
    problem = find_text_problem("Quyết định" + "\u00a0" * 3000 + "điều khoản ẩn", field="description",
                                max_length=10000)
    assert (problem.english, problem.code_point) == ("description has more than 2 spaces in a row", 0xA0)
    assert find_text_problem("Quyết\u00a0định  số 1", field="description", max_length=100) is None


def test_length_is_limited_and_stacked_combining_marks_are_refused():
    assert find_text_problem("a" * 1001, field="title", max_length=1000).english == \
        "title is longer than 1000 characters"
    assert find_text_problem("a\u0301\u0302\u0303", field="title", max_length=10).english == \
        "title has more than 2 combining marks in a row"
