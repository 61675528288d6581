"""Validation data for PAdES B-LT and B-LTA: a DSS that proves every signature of the document offline.

ETSI EN 319 142-1, 5.4.2 and 6.3 (B-LT): the DSS holds the certificates, CRLs and OCSP responses needed to
validate the signature, with a VRI entry per signature. A document issued by kyso carries the leader's
approval signature and the seal's issue signature, each with a signature timestamp: all four chains (two
signers, the TSA twice) and their revocation data go into the DSS, so that a receiver without network
access can validate every signature (not only the last one, which is all pyHanko's
`add_validation_info` covers). B-LTA (EN 319 142-1, 5.4.3) adds a document timestamp over it, then the
validation data of that timestamp's own TSA chain in a last DSS update (allowed after it: LTA updates).
"""

from __future__ import annotations

import io


async def add_validation_data(pdf: bytes, context, *, document_timestamper=None, digest_algorithm: str = "sha256"
                              ) -> bytes:
    """The PDF with one incremental DSS update covering every signature and document timestamp in it; with
    `document_timestamper` (B-LTA), then a document timestamp and a DSS update for its TSA chain.
    `context` is a certvalidator ValidationContext in hard-fail mode that may fetch (revocation is gathered
    through it); pyHanko's and certvalidator's errors propagate to the caller, which translates them."""
    pdf = await _dss_for_every_signature(pdf, context)
    if document_timestamper is None:
        return pdf
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    stamped = await signers.PdfTimeStamper(document_timestamper).async_timestamp_pdf(
        writer, digest_algorithm, output=io.BytesIO())
    return await _dss_for_every_signature(stamped.getvalue(), context)


async def _dss_for_every_signature(pdf: bytes, context) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    writer = IncrementalPdfFileWriter.from_reader(reader)
    try:
        existing = set(reader.root["/DSS"]["/VRI"].keys())
    except (KeyError, TypeError):
        existing = set()
    for embedded in reader.embedded_signatures:  # approval and issue signatures, document timestamps
        # the signer's (or, for a document timestamp, the TSA's) path, and its signature timestamp's path
        paths = await collect_validation_info(embedded, context)
        # ETSI EN 319 142-1, 5.4.2.3: the VRI key is the SHA-1 of the signature's /Contents bytes (padding
        # included), in upper-case hex. (pyHanko's own add_validation_info hashes the hex text instead.)
        # A VRI entry already written is left as it is (rewriting it is a change strict validators refuse);
        # the new data still goes into the DSS's common arrays.
        identifier = DocumentSecurityStore.sig_content_identifier(embedded.pkcs7_content)
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None if identifier in existing else embedded.pkcs7_content, paths=paths,
            validation_context=context)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
