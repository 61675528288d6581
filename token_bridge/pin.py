"""PIN prompts: how a login obtains the user's PIN, behind one small interface.

Issue 3: a desktop dialog where a display exists, the console otherwise, a scripted provider for tests and
the demo. A PIN is never logged, returned or kept longer than the login: it travels as a `Pin`, whose repr
and str hide it, and the session drops it as soon as C_Login returns.

Before a login the session reads the token's PIN flags and tells the prompt (`PinRequest.pin_state`); at the
final try it asks `confirm_final_try` first and sends nothing without a yes.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

from token_bridge.errors import ConfigurationError, EnvironmentPinRejected, PinState


class Pin:
    """A user PIN in transit. Its repr and str never show the value; `reveal()` is for C_Login only."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not isinstance(value, str) or not value:
            raise ValueError("a PIN is a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Pin(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:  # comparing PINs is never needed; make it obvious
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        raise TypeError("a Pin cannot be pickled")


@dataclass(frozen=True)
class PinRequest:
    """What a prompt shows: which token, its PIN state, which attempt, what the login is for."""

    label: str
    serial: str
    pin_state: PinState
    attempt: int = 1
    previous_attempt_failed: bool = False
    purpose: str = ""

    @property
    def message_en(self) -> str:
        lines = [f"Enter the PIN of token '{self.label}' (serial {self.serial})."]
        if self.purpose:
            lines.append(f"For: {self.purpose}")
        if self.previous_attempt_failed:
            lines.append("The previous PIN was wrong.")
        if self.pin_state is not PinState.OK:
            lines.append(f"Token PIN state: {self.pin_state.description_en}.")
        return "\n".join(lines)

    @property
    def message_vi(self) -> str:
        lines = [f"Nhập mã PIN của thiết bị '{self.label}' (số sê-ri {self.serial})."]
        if self.purpose:
            lines.append(f"Để: {self.purpose}")
        if self.previous_attempt_failed:
            lines.append("Mã PIN vừa nhập không đúng.")
        if self.pin_state is not PinState.OK:
            lines.append(f"Trạng thái PIN: {self.pin_state.description_vi}.")
        return "\n".join(lines)


FINAL_TRY_WARNING_VI = "CẢNH BÁO: chỉ còn MỘT lần thử. Nhập sai, thiết bị sẽ bị khóa. Tiếp tục?"
FINAL_TRY_WARNING_EN = "WARNING: ONE try remains. A wrong PIN locks the token. Continue?"


@runtime_checkable
class PinPrompt(Protocol):
    def ask_pin(self, request: PinRequest) -> Pin | None:
        """The PIN, or None when the user cancels."""
        ...

    def confirm_final_try(self, request: PinRequest) -> bool:
        """True only when the user explicitly accepts that a wrong PIN will lock the token."""
        ...


class ScriptedPinPrompt:
    """Answers from a script: tests and the demo. Records each request it was shown (never the PIN)."""

    def __init__(self, pins: Iterable[str | Pin], *, confirm_final_try: bool = False):
        self.pins: list[Pin] = [p if isinstance(p, Pin) else Pin(p) for p in pins]
        self.final_try_answer = confirm_final_try
        self.requests: list[PinRequest] = []
        self.final_try_questions: list[PinRequest] = []

    def ask_pin(self, request: PinRequest) -> Pin | None:
        self.requests.append(request)
        return self.pins.pop(0) if self.pins else None

    def confirm_final_try(self, request: PinRequest) -> bool:
        self.final_try_questions.append(request)
        return self.final_try_answer

    def __repr__(self) -> str:
        return f"ScriptedPinPrompt({len(self.pins)} PIN(s) left)"


class RepeatingPinPrompt:
    """Gives the same PIN to every login (a service's own token, the demo); never confirms a final try."""

    def __init__(self, pin: str | Pin):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin)

    def ask_pin(self, request: PinRequest) -> Pin | None:
        return None if request.previous_attempt_failed else self._pin

    def confirm_final_try(self, request: PinRequest) -> bool:
        return False

    def __repr__(self) -> str:
        return "RepeatingPinPrompt(Pin(***))"


class EnvironmentPinPrompt:
    """Reads the PIN from an environment variable named by the caller (never a PIN on a command line).

    One PIN for every token: once a token refuses it, it is never offered to that token again in this process
    (issue 9, item 6: a request naming another token's key must not count that token down to locked)."""

    def __init__(self, variable: str):
        self.variable = variable
        self._rejected: set[tuple[str, str]] = set()  # (label, serial) of tokens that refused the PIN

    def pin_rejected(self, request: PinRequest) -> None:
        """Called by the token session when the token refused the PIN given for `request`."""
        self._rejected.add((request.label, request.serial))

    def ask_pin(self, request: PinRequest) -> Pin | None:
        if request.previous_attempt_failed:
            return None  # the same wrong PIN again would only bring the lock closer
        if (request.label, request.serial) in self._rejected:
            raise EnvironmentPinRejected(request.label, self.variable, request.pin_state)
        value = os.environ.get(self.variable)
        if not value:
            raise ConfigurationError(
                f"Environment variable {self.variable} holds no PIN.",
                f"Biến môi trường {self.variable} không chứa mã PIN.",
            )
        return Pin(value)

    def confirm_final_try(self, request: PinRequest) -> bool:
        return False

    def __repr__(self) -> str:
        return f"EnvironmentPinPrompt({self.variable!r})"


class ConsolePinPrompt:
    """Asks on the terminal (getpass: no echo); the final-try question needs a typed 'yes' / 'có'."""

    def __init__(self, *, output: TextIO | None = None, input_stream: TextIO | None = None):
        self._output = output or sys.stderr
        self._input = input_stream

    def ask_pin(self, request: PinRequest) -> Pin | None:
        self._output.write(f"{request.message_vi}\n{request.message_en}\n")
        try:
            value = getpass.getpass("PIN: ", stream=self._output)
        except (EOFError, KeyboardInterrupt):
            return None
        return Pin(value) if value else None

    def confirm_final_try(self, request: PinRequest) -> bool:
        self._output.write(f"{FINAL_TRY_WARNING_VI}\n{FINAL_TRY_WARNING_EN}\n[yes/có | no/không]: ")
        self._output.flush()
        stream = self._input or sys.stdin
        answer = stream.readline().strip().lower()
        return answer in ("yes", "có", "co")


class DesktopPinPrompt:
    """A desktop dialog: zenity when installed, tkinter otherwise. Needs a display."""

    def __init__(self, *, title: str = "kyso: ký số"):
        self.title = title
        self._zenity = shutil.which("zenity")

    @staticmethod
    def is_available() -> bool:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return False
        if shutil.which("zenity"):
            return True
        try:
            import tkinter  # noqa: F401
        except ImportError:
            return False
        return True

    def ask_pin(self, request: PinRequest) -> Pin | None:
        text = f"{request.message_vi}\n\n{request.message_en}"
        if self._zenity:
            result = subprocess.run(
                [self._zenity, "--entry", "--hide-text", f"--title={self.title}", f"--text={text}"],
                capture_output=True,
                text=True,
            )
            value = result.stdout.rstrip("\n")
            return Pin(value) if result.returncode == 0 and value else None
        from tkinter import Tk, simpledialog

        root = Tk()
        root.withdraw()
        try:
            value = simpledialog.askstring(self.title, text, show="•", parent=root)
        finally:
            root.destroy()
        return Pin(value) if value else None

    def confirm_final_try(self, request: PinRequest) -> bool:
        text = f"{FINAL_TRY_WARNING_VI}\n\n{FINAL_TRY_WARNING_EN}"
        return ask_desktop_question(self._zenity, self.title, text)


def ask_desktop_question(zenity: str | None, title: str, text: str, *, default_cancel: bool = False) -> bool:
    """A yes/no dialog on the desktop: zenity when installed, tkinter otherwise; "no" is the default button."""
    if zenity:
        args = [zenity, "--question", f"--title={title}", f"--text={text}"]
        if default_cancel:
            args.append("--default-cancel")
        return subprocess.run(args, capture_output=True).returncode == 0
    from tkinter import Tk, messagebox

    root = Tk()
    root.withdraw()
    try:
        return bool(messagebox.askyesno(title, text, parent=root, default="no"))
    finally:
        root.destroy()


def choose_pin_prompt() -> PinPrompt:
    """The desktop dialog where a display exists, else the console when there is a terminal."""
    if DesktopPinPrompt.is_available():
        return DesktopPinPrompt()
    if sys.stdin.isatty():
        return ConsolePinPrompt()
    raise ConfigurationError(
        "No way to ask for a PIN: no display and no terminal. Configure a PIN prompt.",
        "Không có cách nào hỏi mã PIN: không có màn hình và không có cửa sổ lệnh.",
    )
