"""CAdES detached signatures (`.p7s` beside its content): the same judgement as PAdES without the PDF."""

from __future__ import annotations

import hashlib

from asn1crypto import cms, pem

from verifier.modifications import NO_CHANGES
from verifier.report import FileReport, Message, Severity
from verifier.signature import DocumentData, Environment, judge_cms_signer


async def judge_cades(signature: bytes, content: bytes, *, path: str, env: Environment) -> FileReport:
    try:
        if pem.detect(signature):
            _, _, signature = pem.unarmor(signature)
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"content type is {info['content_type'].native}, not signed_data")
        signed_data: cms.SignedData = info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) == 0:
            return FileReport.of(path, ())
        digest_algorithm = signer_infos[0]["digest_algorithm"]["algorithm"].native
        if signed_data["encap_content_info"]["content"].native is not None:
            raise ValueError("the signature encapsulates its content: not a detached signature")
        digest = hashlib.new(digest_algorithm, content).digest()
        claimed = None
        for attr in signer_infos[0]["signed_attrs"]:
            if attr["type"].native == "signing_time":
                claimed = attr["values"][0].native
    except Exception as exc:  # noqa: BLE001 - hostile input is a format failure, never a crash
        return FileReport.format_failure(path, Message(
            "format.not-cms", f"the file is not a CMS (CAdES) detached signature: {str(exc)[:300]}",
            f"tệp không phải chữ ký CMS (CAdES) tách rời: {str(exc)[:300]}", Severity.ERROR))
    report = await judge_cms_signer(signed_data, digest=digest, claimed=claimed, env=env,
                                    document=DocumentData(), integrity=NO_CHANGES, field="cades")
    return FileReport.of(path, (report,))
