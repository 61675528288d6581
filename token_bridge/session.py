"""The logged-in session on one token: log in once per process, recover after removal or a rescan.

DESIGN.md pitfalls: a second C_Login in the same process fails, and closing the logged-in session logs
every session out; so each token has one `TokenSession` per process (`Pkcs11Module.session(label)`), kept
open, and every operation runs through `TokenSession.run` under the process-wide PKCS#11 lock.

When the token disappears (unplugged, deleted, the module reset), the failing call raises `TokenNotPresent`
and the session forgets its handle; the next operation finds the token again by label (rescanning the
module when needed) and logs in again through the PIN prompt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pkcs11

from token_bridge.errors import (
    ConfigurationError,
    PinEntryCancelled,
    PinState,
    TokenNotPresent,
    TokenPinFinalTryNotConfirmed,
    TokenPinIncorrect,
    TokenPinLocked,
)
from token_bridge.module import PKCS11_LOCK, Pkcs11Module, is_token_gone, translate_pkcs11_error
from token_bridge.pin import PinPrompt, PinRequest

T = TypeVar("T")

DEFAULT_PIN_ATTEMPTS = 3


class TokenSession:
    """A read-write, logged-in session on the token labelled `label`, opened on first use."""

    def __init__(
        self,
        module: Pkcs11Module,
        label: str,
        *,
        pin_prompt: PinPrompt | None = None,
        pin_attempts: int = DEFAULT_PIN_ATTEMPTS,
    ):
        self.module = module
        self.label = label
        self.pin_prompt = pin_prompt
        self.pin_attempts = pin_attempts
        self.purpose = ""  # shown by the PIN prompt, e.g. the description of the signature
        self._session = None
        self._generation = -1
        self._objects: dict[tuple, object] = {}  # cached object handles, valid for one login
        self._login_lock = threading.Lock()  # one login at a time on this token

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"TokenSession({self.label!r}, {state})"

    @property
    def is_open(self) -> bool:
        return self._session is not None and self._generation == self.module.generation

    # -- running operations -----------------------------------------------------------------------

    def run(self, doing: str, operation: Callable[["pkcs11.Session"], T]) -> T:
        """Run `operation(raw_session)` under the PKCS#11 lock, logging in first when needed.

        `doing` names the operation in error messages ("signing a digest").
        """
        self.open()  # a login asks for the PIN without holding the process-wide lock
        with PKCS11_LOCK:
            raw = self.open()
            try:
                return operation(raw)
            except pkcs11.exceptions.PKCS11Error as exc:
                if is_token_gone(exc):
                    self._drop()
                raise translate_pkcs11_error(exc, label=self.label, doing=doing) from exc

    def run_public(self, doing: str, operation: Callable[["pkcs11.Session"], T]) -> T:
        """Run `operation` on public objects only (certificates): no PIN is asked for.

        Uses the logged-in session when there is one, else a short read-only session without login.
        """
        with PKCS11_LOCK:
            if self.is_open:
                return self.run(doing, operation)
            token = self.module.raw_token(self.label)
            try:
                raw = token.open(rw=False)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise translate_pkcs11_error(exc, label=self.label, doing=doing) from exc
            try:
                return operation(raw)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise translate_pkcs11_error(exc, label=self.label, doing=doing) from exc
            finally:
                try:
                    raw.close()
                except pkcs11.exceptions.PKCS11Error:
                    pass

    def cached(self, key: tuple, find: Callable[["pkcs11.Session"], object], *, doing: str):
        """An object handle found once per login (keys are looked up by CKA_ID, not on every signature)."""
        with PKCS11_LOCK:
            self.open()
            if key not in self._objects:
                self._objects[key] = self.run(doing, find)
            return self._objects[key]

    def open(self):
        """The raw python-pkcs11 session, logging in when there is none (internal to token_bridge).

        The PKCS#11 lock is held around each PKCS#11 call of the login, not while the user types the PIN,
        so other tokens stay usable meanwhile (unless the caller already holds the lock).
        """
        if PKCS11_LOCK.held_by_current_thread():
            # Called under the lock (e.g. inside `run` after a rescan): log in right here. Taking the login
            # lock now would invert the lock order (login lock, then PKCS#11 lock) of a thread at its PIN prompt.
            with PKCS11_LOCK:
                if self.is_open:
                    return self._session
                return self._log_in_now()
        with self._login_lock:
            with PKCS11_LOCK:
                if self.is_open:
                    return self._session
            return self._log_in_now()

    def _log_in_now(self):
        with PKCS11_LOCK:
            self._drop()
            generation = self.module.generation
        session = self._log_in()
        with PKCS11_LOCK:
            self._session = session
            self._generation = generation
            return session

    def require_present(self) -> None:
        """Raise TokenNotPresent (and forget the session) when the token has gone: SoftHSM answers a
        search on a removed token with "no such object" rather than an error."""
        with PKCS11_LOCK:
            if self.module.raw_token(self.label, rescan=False, missing_ok=True) is None:
                self._drop()
                raise TokenNotPresent(
                    self.label,
                    "the token disappeared during the operation",
                    "thiết bị biến mất trong khi thực hiện thao tác",
                )

    def close(self) -> None:
        """Close the session (which logs the token out if it was the last one)."""
        with PKCS11_LOCK:
            if self._session is not None and self._generation == self.module.generation:
                try:
                    self._session.close()
                except pkcs11.exceptions.PKCS11Error:
                    pass
            self._session = None
            self._objects.clear()

    def _drop(self) -> None:
        # A dead session's handle is not closed: the module no longer knows it.
        self._session = None
        self._objects.clear()

    # -- login ----------------------------------------------------------------------------------------

    def _log_in(self):
        """Open a session and log in, reading the PIN flags before every attempt (issue 3, PINs)."""
        token = self.module.raw_token(self.label)
        flags = self._flags(token)
        if not flags.login_required:
            return self._open_raw(token, pin=None)
        last_error: TokenPinIncorrect | None = None
        for attempt in range(1, self.pin_attempts + 1):
            state = flags.pin_state
            if state is PinState.LOCKED:
                raise TokenPinLocked(self.label)
            if self.pin_prompt is None:
                raise ConfigurationError(
                    f"Token '{self.label}' needs a PIN and no PIN prompt is configured.",
                    f"Thiết bị '{self.label}' cần mã PIN nhưng chưa cấu hình cách hỏi mã PIN.",
                )
            request = PinRequest(
                label=self.label,
                serial=_text(token.serial),
                pin_state=state,
                attempt=attempt,
                previous_attempt_failed=last_error is not None,
                purpose=self.purpose,
            )
            # At the final try nothing is sent without an explicit yes (a wrong PIN would lock the token).
            if state is PinState.FINAL_TRY and not self.pin_prompt.confirm_final_try(request):
                raise TokenPinFinalTryNotConfirmed(self.label)
            pin = self.pin_prompt.ask_pin(request)
            if pin is None:
                if last_error is not None:
                    raise last_error
                raise PinEntryCancelled(self.label, state)
            try:
                return self._open_raw(token, pin=pin.reveal())
            except pkcs11.exceptions.PinIncorrect:
                # A prompt that cannot tell one token from another (a PIN from the environment) is told, so it
                # never offers the same PIN to this token again.
                rejected = getattr(self.pin_prompt, "pin_rejected", None)
                if rejected is not None:
                    rejected(request)
                flags = self._flags(token)
                last_error = TokenPinIncorrect(self.label, flags.pin_state)
            except pkcs11.exceptions.PinLocked as exc:
                raise TokenPinLocked(self.label) from exc
            finally:
                del pin  # never kept longer than the login
        assert last_error is not None
        raise last_error

    def _open_raw(self, token, *, pin: str | None):
        with PKCS11_LOCK:
            return self._open_raw_locked(token, pin=pin)

    def _open_raw_locked(self, token, *, pin: str | None):
        try:
            return token.open(rw=True, user_pin=pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # Another session of this process logged in already; the login is process-wide.
            try:
                return token.open(rw=True)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise translate_pkcs11_error(exc, label=self.label, doing="opening a session") from exc
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinLocked):
            raise
        except pkcs11.exceptions.PKCS11Error as exc:
            if is_token_gone(exc):
                raise TokenNotPresent(self.label) from exc
            raise translate_pkcs11_error(exc, label=self.label, doing="logging in") from exc

    def _flags(self, token):
        from token_bridge.module import TokenFlags

        try:
            # Re-read: python-pkcs11's Token caches the flags of the moment it was listed.
            fresh = self.module.raw_token(self.label, rescan=False)
            return TokenFlags.from_pkcs11(int(fresh.flags))
        except pkcs11.exceptions.PKCS11Error as exc:
            raise translate_pkcs11_error(exc, label=self.label, doing="reading the PIN state") from exc


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip().rstrip("\x00")
    return str(value).strip()
