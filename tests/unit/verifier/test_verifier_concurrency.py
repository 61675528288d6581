"""Issue 9: no process-wide lock across work on untrusted input. One validation that is still running (here
held inside the Verifier's own runner until the test releases it) does not stop another thread's
validation from completing."""

from __future__ import annotations

import asyncio
import threading

from tests.support.documents import sample_decision
from verifier import Indication, ValidationSettings, Verifier


def test_a_validation_in_progress_does_not_block_another_thread():
    verifier = Verifier(ValidationSettings(offline=True))
    inside, release = threading.Event(), threading.Event()

    async def held() -> str:
        inside.set()
        await asyncio.to_thread(release.wait)
        return "held one finished"

    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", verifier._run(held())))
    first.start()
    try:
        assert inside.wait(60)
        # The first validation is still inside the Verifier: this one would wait for it behind a lock
        # (and the join below would give up with the second thread still waiting).
        second = threading.Thread(target=lambda: results.setdefault(
            "second", verifier.verify_pdf(sample_decision(), path="other.pdf").indication))
        second.start()
        second.join(120)
        assert results == {"second": Indication.NO_SIGNATURE_FOUND}
    finally:
        release.set()
        first.join(60)
    assert results == {"second": Indication.NO_SIGNATURE_FOUND, "first": "held one finished"}
    verifier.close()
