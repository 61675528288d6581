"""The status of one signing certificate at a moment, for signatures the verifier does not parse itself.

edxml judges the XML-DSig of a package (QCVN 102:2016/BTTTT) and needs the same chain, revocation and
algorithm judgement as a PDF signature (DOMAIN.md, "Validation rules"): this is that judgement, without a
CMS container around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509

from verifier.chain import SIGNER_KEY_USAGE, anchor_name, validate_chain_cached
from verifier.report import Indication, Message, RevocationEvidence, SubIndication
from verifier.signature import DocumentData, Environment


@dataclass(frozen=True)
class CertificateStatus:
    """What the chain of a signing certificate says at `moment`."""

    indication: Indication
    sub_indication: SubIndication | None
    moment: datetime
    trust_anchor: str | None
    revocation: tuple[RevocationEvidence, ...]
    messages: tuple[Message, ...]

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED


async def judge_certificate(certificate: x509.Certificate, *, other_certs: tuple[x509.Certificate, ...],
                            moment: datetime | None, env: Environment, role_en: str,
                            role_vi: str) -> CertificateStatus:
    # Without a timestamp nothing proves the signing time: the chain is judged at `moment` (default now),
    # so a revocation or expiry before it is "no proof of existence", not a final failure.
    when = moment or env.now
    context = env.new_context(moment=when, document=DocumentData(), extra_certs=other_certs)
    chain, evidence = await validate_chain_cached(
        certificate, context=context, key_usage=SIGNER_KEY_USAGE, time_proven=False,
        algorithms=env.policy.algorithms, cache=env.chain_cache, document_revinfo=set(),
        role_en=role_en, role_vi=role_vi, url_of=env.url_of)
    passed = chain.indication is Indication.TOTAL_PASSED
    return CertificateStatus(chain.indication, chain.sub_indication, when,
                             anchor_name(chain.path) if passed else None, evidence, chain.messages)
