"""The signature block found by text search is kept per document (issue 12): the same bytes are parsed once,
other bytes or another question are searched anew, and a block not found is never remembered."""

from __future__ import annotations

import pytest

from signer import layout
from signer.errors import PlaceNotFound
from tests.support import documents


def test_the_same_document_and_question_is_answered_from_the_cache():
    document = documents.decision_pdf(pages=3)
    first = layout.find_signature_block(document, page_count=3, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    searched = layout._search_signature_block(document, page_count=3, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    again = layout.find_signature_block(document, page_count=3, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    assert again is first  # the kept object, not a new search
    assert first == searched
    assert first.page == 0


def test_other_bytes_are_searched_anew_and_misses_are_not_kept():
    document = documents.decision_pdf(pages=2)
    found = layout.find_signature_block(document, page_count=2, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    changed = document + b"\n% another revision\n"
    other = layout.find_signature_block(changed, page_count=2, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    assert other == found and other is not found
    for _ in range(2):
        with pytest.raises(PlaceNotFound) as raised:
            layout.find_signature_block(document, page_count=2, title="GIÁM ĐỐC", name="Người Khác")
        assert "signature block not found (title line 'GIÁM ĐỐC' above name line 'Người Khác')" in str(raised.value)
