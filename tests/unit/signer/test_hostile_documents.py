"""The signer refuses hostile documents before pyHanko or pdfminer works on them (issue 9, items 2 and 11):
`open_document` (the first step of every prepare) raises `DocumentTooComplex` naming the bound."""

from __future__ import annotations

import pytest

from policies.pdf_limits import Limit, PdfLimits
from signer.errors import DocumentTooComplex
from signer.pades import open_document
from tests.support.documents import sample_decision
from tests.support.hostile_pdfs import (
    deep_page_tree, flate_bomb, looping_page_tree, many_signature_fields, stacked_flate_bomb,
)


@pytest.mark.parametrize("build, limit, message", [
    (lambda: flate_bomb(inflated=80 * 1024 * 1024), Limit.STREAM_BYTES,
     "từ chối: một luồng dữ liệu của tệp PDF giải nén ra hơn 67108864 byte / "
     "refused: one stream of the PDF decodes to more than 67108864 bytes"),
    (lambda: stacked_flate_bomb(inflated=80 * 1024 * 1024), Limit.STREAM_BYTES,
     "từ chối: một luồng dữ liệu của tệp PDF giải nén ra hơn 67108864 byte / "
     "refused: one stream of the PDF decodes to more than 67108864 bytes"),
    (lambda: many_signature_fields(101), Limit.SIGNATURE_FIELDS,
     "từ chối: tệp PDF có hơn 100 trường chữ ký / refused: the PDF has more than 100 signature fields"),
    (lambda: deep_page_tree(5_000), Limit.PAGE_TREE_DEPTH,
     "từ chối: cây trang của tệp PDF lồng sâu hơn 64 cấp / "
     "refused: the page tree of the PDF is nested more than 64 levels deep"),
    (looping_page_tree, Limit.PAGE_TREE_LOOP,
     "từ chối: cây trang của tệp PDF tham chiếu vòng lại chính nó / "
     "refused: the page tree of the PDF refers back to itself (a reference loop)"),
])
def test_hostile_documents_are_refused_with_the_bound_they_exceed(build, limit, message):
    with pytest.raises(DocumentTooComplex) as refused:
        open_document(build())
    assert (refused.value.limit, refused.value.message) == (limit, message)


def test_the_limits_are_the_callers():
    deep = deep_page_tree(70)
    with pytest.raises(DocumentTooComplex):
        open_document(deep)
    _writer, pages = open_document(deep, limits=PdfLimits(max_page_tree_depth=80))
    assert pages == 1


def test_an_ordinary_decision_opens():
    _writer, pages = open_document(sample_decision())
    assert pages == 1
