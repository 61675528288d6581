"""PAdES and CAdES signatures with the Decree 30 layouts, from any key that can sign a digest.

Public API (what the service, the CLI and the bridge call):

    SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T, signature_image=StampImage.from_png(png))
        what to sign; checked on creation (each kind's required inputs, no foreign ones)
    SigningEnvironment(trust_roots=[...], tsa_url=..., numbers=NumberAllocator, revocation_mode="soft-fail")
        trust roots (explicit, never the OS store), the TSA (retried), the number allocator; build once and
        reuse: it keeps one timestamper and reuses a passed certificate check for check_cache_seconds
    sign_pdf(pdf, key=DigestSigner, certificate=, chain=, request=, environment=) -> SignedDocument
    prepare(pdf, certificate=, chain=, request=, environment=) -> PreparedSignature
        .digest / .digest_algorithm / .scheme: what the client's token signs; .state: a SigningState
        (`state.to_json()` / `SigningState.from_json(text)` to store it); .number for `issue` (taken from
        the allocator here: whether a prepared issue that is never completed leaves a gap depends on the
        allocator; one with reservations, like ledger.numbering's reserve/finalize/release used by the
        service's signing sessions and `kyso sign`, gives the number back to the series)
    complete(state, signature_value, environment=, used_states=UsedStates) -> SignedDocument
        refuses a value over another digest or by another key (SignatureValueMismatch) and a state
        completed before (StateAlreadyUsed, through `used_states.claim(state_id)`)
    sign_cades(data, key=, certificate=, chain=, timestamper=None, environment=None, kind=None) -> bytes
        detached .p7s (DER); with an environment the certificate is checked first, as for PDFs
    KeySigner(key, certificate, chain): a pyHanko `Signer` over any DigestSigner
    async_prepare / async_complete: the same inside a running event loop

Kinds (Decree 30, Appendix I): approve (personal certificate; blue signature image between the title
and name lines, or in a named empty field, or at coordinates), issue (agency certificate; red seal over
the left third of the personal signature, number and date written into their places; refused without a
valid personal signature), appendix / copy (agency; text top right of page 1), incoming (agency; receipt
stamp "ĐẾN"). Levels: B-B, B-T, B-LT, B-LTA. Errors: `SignerError` and its subclasses in `signer.errors`,
each message "tiếng Việt / English".
"""

from signer.cms import KeySigner, sign_cades
from signer.environment import VIETNAM, SigningEnvironment
from signer.errors import SignerError
from signer.image import StampImage
from signer.pades import (
    PreparedSignature,
    SignedDocument,
    async_complete,
    async_prepare,
    complete,
    prepare,
    sign_pdf,
)
from signer.request import (
    CopyForm,
    IssuedNumber,
    NumberAllocator,
    PadesLevel,
    Placement,
    RequestError,
    SignatureKind,
    SignatureRequest,
)
from signer.session import InMemoryUsedStates, SigningState, UsedStates

__all__ = [
    "VIETNAM",
    "CopyForm",
    "InMemoryUsedStates",
    "IssuedNumber",
    "KeySigner",
    "NumberAllocator",
    "PadesLevel",
    "Placement",
    "PreparedSignature",
    "RequestError",
    "SignatureKind",
    "SignatureRequest",
    "SignedDocument",
    "SignerError",
    "SigningEnvironment",
    "SigningState",
    "StampImage",
    "UsedStates",
    "async_complete",
    "async_prepare",
    "complete",
    "prepare",
    "sign_cades",
    "sign_pdf",
]
