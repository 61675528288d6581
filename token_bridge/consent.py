"""Consent: every signature the bridge makes is shown to the user first, with what and who asks.

Issue 3: a request carries a human-readable description (document title, number, requesting system); the
consent prompt shows it with the requesting origin and the certificate that would sign. Providers: a
desktop dialog, the console, a scripted one for tests, and `UnsafeAutoConsent` for the unattended demo only.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

from token_bridge.errors import ConfigurationError


@dataclass(frozen=True)
class ConsentRequest:
    description: str  # what is signed, as the requesting system describes it
    origin: str  # the web origin, or "local application (<user agent>)"
    signer: str  # the certificate's common name
    certificate_kind: str  # personal | agency | unknown
    token_label: str
    digest_algorithm: str
    signature_algorithm: str

    @property
    def message_vi(self) -> str:
        kind = {"personal": "chữ ký cá nhân", "agency": "chữ ký của cơ quan (con dấu)"}.get(
            self.certificate_kind, "chữ ký"
        )
        return (
            f"{self.origin} yêu cầu {kind} của {self.signer} (thiết bị '{self.token_label}').\n"
            f"Nội dung: {self.description}\nĐồng ý ký?"
        )

    @property
    def message_en(self) -> str:
        kind = {"personal": "personal signature", "agency": "agency (seal) signature"}.get(
            self.certificate_kind, "signature"
        )
        return (
            f"{self.origin} asks for the {kind} of {self.signer} (token '{self.token_label}').\n"
            f"What: {self.description}\nSign?"
        )


@runtime_checkable
class ConsentPrompt(Protocol):
    def ask_consent(self, request: ConsentRequest) -> bool:
        """True only when the user agrees to this signature."""
        ...


class ScriptedConsent:
    """Answers from a script (tests, demo); records every request shown. Runs out: `default` (refuse)."""

    def __init__(self, answers: list[bool] | None = None, *, default: bool = False):
        self.answers = list(answers or [])
        self.requests: list[ConsentRequest] = []
        self.default = default

    def ask_consent(self, request: ConsentRequest) -> bool:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        return self.default


class UnsafeAutoConsent:
    """UNSAFE: agrees to everything. Only for the unattended demo and benchmarks; never in production."""

    def __init__(self):
        self.requests: list[ConsentRequest] = []

    def ask_consent(self, request: ConsentRequest) -> bool:
        self.requests.append(request)
        del self.requests[:-100]  # keep the last few for inspection only
        return True


class ConsoleConsent:
    def __init__(self, *, output: TextIO | None = None, input_stream: TextIO | None = None):
        self._output = output or sys.stderr
        self._input = input_stream

    def ask_consent(self, request: ConsentRequest) -> bool:
        self._output.write(f"{request.message_vi}\n{request.message_en}\n[yes/có | no/không]: ")
        self._output.flush()
        answer = (self._input or sys.stdin).readline().strip().lower()
        return answer in ("yes", "có", "co")


class DesktopConsent:
    """A yes/no dialog: zenity when installed, tkinter otherwise."""

    def __init__(self, *, title: str = "kyso: ký số"):
        self.title = title
        self._zenity = shutil.which("zenity")

    def ask_consent(self, request: ConsentRequest) -> bool:
        from token_bridge.pin import ask_desktop_question

        text = f"{request.message_vi}\n\n{request.message_en}"
        return ask_desktop_question(self._zenity, self.title, text, default_cancel=True)


def choose_consent_prompt() -> ConsentPrompt:
    """The desktop dialog where a display exists, else the console when there is a terminal."""
    from token_bridge.pin import DesktopPinPrompt

    if DesktopPinPrompt.is_available():
        return DesktopConsent()
    if sys.stdin.isatty():
        return ConsoleConsent()
    raise ConfigurationError(
        "No way to ask for consent: no display and no terminal.",
        "Không có cách nào hỏi ý kiến người dùng: không có màn hình và không có cửa sổ lệnh.",
    )

