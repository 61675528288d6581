"""PKCS#11 modules and the tokens in their slots.

DESIGN.md pitfalls: python-pkcs11 loads a library once per process; SoftHSM and python-pkcs11 crash with
concurrent sessions in threads, so every PKCS#11 call of the process goes through `PKCS11_LOCK`; tokens are
selected by label (SoftHSM moves initialised tokens to random slot ids).

SoftHSM reads its token directory at `C_Initialize` only: a token added by another process, or one that
was removed and put back, is seen after `Pkcs11Module.rescan()` (C_Finalize + C_Initialize), which also
ends every session of the module. Sessions (`token_bridge.session`) notice the new `generation` and log in
again through their PIN prompt.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from pkcs11 import TokenFlag

from token_bridge.errors import (
    ModuleLoadError,
    PinState,
    TokenBridgeError,
    TokenNotPresent,
    TokenOperationFailed,
    TokenPinLocked,
)

DEFAULT_MODULE_PATH = "/usr/lib/softhsm/libsofthsm2.so"

class _ProcessLock:
    """A re-entrant lock that knows whether the current thread holds it (for lock-order decisions)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._local = threading.local()

    def __enter__(self):
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return self

    def __exit__(self, *exc_info):
        self._local.depth -= 1
        self._lock.release()

    def held_by_current_thread(self) -> bool:
        return getattr(self._local, "depth", 0) > 0


# One lock for every PKCS#11 call of the process (re-entrant: sessions call the module under it).
PKCS11_LOCK = _ProcessLock()

# python-pkcs11 errors that mean "the token (or its session) is gone": unplugged, deleted, module reset.
_GONE = (
    pkcs11.exceptions.TokenNotPresent,
    pkcs11.exceptions.TokenNotRecognised,
    pkcs11.exceptions.DeviceRemoved,
    pkcs11.exceptions.DeviceError,
    pkcs11.exceptions.SessionHandleInvalid,
    pkcs11.exceptions.SessionClosed,
    pkcs11.exceptions.ObjectHandleInvalid,
    pkcs11.exceptions.KeyHandleInvalid,
    pkcs11.exceptions.SlotIDInvalid,
    pkcs11.exceptions.GeneralError,  # SoftHSM's answer for a slot whose token folder disappeared
    pkcs11.exceptions.UserNotLoggedIn,  # the module was reset under us: the login is gone too
)


@dataclass(frozen=True)
class TokenFlags:
    """The CK_TOKEN_INFO flags a person or a policy cares about."""

    initialised: bool
    login_required: bool
    user_pin_initialised: bool
    pin_count_low: bool
    pin_final_try: bool
    pin_locked: bool
    protected_authentication_path: bool
    write_protected: bool

    @classmethod
    def from_pkcs11(cls, flags: int) -> "TokenFlags":
        return cls(
            initialised=bool(flags & TokenFlag.TOKEN_INITIALIZED),
            login_required=bool(flags & TokenFlag.LOGIN_REQUIRED),
            user_pin_initialised=bool(flags & TokenFlag.USER_PIN_INITIALIZED),
            pin_count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW),
            pin_final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
            pin_locked=bool(flags & TokenFlag.USER_PIN_LOCKED),
            protected_authentication_path=bool(flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH),
            write_protected=bool(flags & TokenFlag.WRITE_PROTECTED),
        )

    @property
    def pin_state(self) -> PinState:
        if self.pin_locked:
            return PinState.LOCKED
        if self.pin_final_try:
            return PinState.FINAL_TRY
        if self.pin_count_low:
            return PinState.COUNT_LOW
        return PinState.OK

    def to_json(self) -> dict:
        return {
            "initialised": self.initialised,
            "login_required": self.login_required,
            "user_pin_initialised": self.user_pin_initialised,
            "pin_count_low": self.pin_count_low,
            "pin_final_try": self.pin_final_try,
            "pin_locked": self.pin_locked,
            "protected_authentication_path": self.protected_authentication_path,
            "write_protected": self.write_protected,
        }


@dataclass(frozen=True)
class TokenInfo:
    slot_id: int
    label: str
    serial: str
    manufacturer: str
    model: str
    flags: TokenFlags

    @property
    def pin_state(self) -> PinState:
        return self.flags.pin_state

    def to_json(self) -> dict:
        return {
            "slot_id": self.slot_id,
            "label": self.label,
            "serial": self.serial,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "flags": self.flags.to_json(),
            "pin_state": self.pin_state.value,
        }


@dataclass(frozen=True)
class SlotInfo:
    slot_id: int
    description: str
    manufacturer: str
    token: TokenInfo | None  # None: no token, or a token the module cannot read (removed mid-session)

    def to_json(self) -> dict:
        return {
            "slot_id": self.slot_id,
            "description": self.description,
            "manufacturer": self.manufacturer,
            "token": self.token.to_json() if self.token else None,
        }


def translate_pkcs11_error(exc: Exception, *, label: str, doing: str) -> TokenBridgeError:
    """Turn a python-pkcs11 exception into ours (STYLE.md: translate at the package boundary)."""
    if isinstance(exc, TokenBridgeError):
        return exc
    if isinstance(exc, pkcs11.exceptions.PinLocked):
        return TokenPinLocked(label)
    if isinstance(exc, _GONE):
        return TokenNotPresent(
            label,
            f"the token stopped answering while {doing} ({type(exc).__name__})",
            f"thiết bị ngừng phản hồi khi {doing} ({type(exc).__name__})",
        )
    if isinstance(exc, pkcs11.exceptions.MechanismInvalid):
        return TokenOperationFailed(
            f"Token '{label}' does not support the mechanism needed for {doing}.",
            f"Thiết bị '{label}' không hỗ trợ cơ chế cần cho thao tác: {doing}.",
        )
    name = type(exc).__name__
    return TokenOperationFailed(
        f"Token '{label}' failed while {doing}: PKCS#11 error {name}.",
        f"Thiết bị '{label}' gặp lỗi khi {doing}: lỗi PKCS#11 {name}.",
    )


def is_token_gone(exc: Exception) -> bool:
    return isinstance(exc, _GONE)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip().rstrip("\x00")
    return str(value).strip()


class Pkcs11Module:
    """One PKCS#11 library loaded in this process. Use `Pkcs11Module.load(path)`: one object per path."""

    _loaded: dict[str, "Pkcs11Module"] = {}

    def __init__(self, path: str, lib: object):
        self.path = path
        self._lib = lib
        self.generation = 0  # incremented by rescan(): sessions opened before it are dead
        self._pid = os.getpid()
        self._sessions: dict[str, object] = {}  # label -> token_bridge.session.TokenSession

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "Pkcs11Module":
        """Load (once per process) the PKCS#11 library at `path`, SoftHSM2 by default."""
        resolved = str(path or DEFAULT_MODULE_PATH)
        with PKCS11_LOCK:
            if resolved in cls._loaded:
                module = cls._loaded[resolved]
                if module._pid != os.getpid():
                    # A forked worker (gunicorn after preload): PKCS#11 requires C_Initialize again in the
                    # child, and the parent's sessions are not ours (DESIGN.md: processes open their own).
                    module._pid = os.getpid()
                    module.rescan()
                return module
            if not Path(resolved).is_file():
                raise ModuleLoadError(
                    f"PKCS#11 module {resolved} does not exist.",
                    f"Không có thư viện PKCS#11 {resolved}.",
                )
            try:
                lib = pkcs11.lib(resolved)
            except Exception as exc:  # the C loader and C_Initialize raise assorted types
                raise ModuleLoadError(
                    f"PKCS#11 module {resolved} cannot be loaded: {type(exc).__name__}: {exc}",
                    f"Không nạp được thư viện PKCS#11 {resolved}: {type(exc).__name__}: {exc}",
                ) from exc
            module = cls(resolved, lib)
            cls._loaded[resolved] = module
            return module

    def __repr__(self) -> str:
        return f"Pkcs11Module({self.path!r}, generation={self.generation})"

    # -- slots and tokens -------------------------------------------------------------------------

    def slots(self) -> list[SlotInfo]:
        """Every slot with a token present (an unreadable token shows as `token=None`)."""
        with PKCS11_LOCK:
            try:
                raw_slots = self._lib.get_slots(token_present=True)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise translate_pkcs11_error(exc, label="*", doing="listing slots") from exc
            result = []
            for slot in raw_slots:
                try:
                    token = self._token_info(slot.slot_id, slot.get_token())
                except pkcs11.exceptions.PKCS11Error:
                    token = None
                result.append(
                    SlotInfo(
                        slot_id=slot.slot_id,
                        description=_text(slot.slot_description),
                        manufacturer=_text(slot.manufacturer_id),
                        token=token,
                    )
                )
            return result

    def tokens(self) -> list[TokenInfo]:
        """The initialised, readable tokens (a SoftHSM free slot is not listed)."""
        return [s.token for s in self.slots() if s.token is not None and s.token.flags.initialised]

    def token_info(self, label: str) -> TokenInfo:
        with PKCS11_LOCK:
            raw = self.raw_token(label)
            try:
                return self._token_info(raw.slot.slot_id, raw)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise translate_pkcs11_error(exc, label=label, doing="reading the token") from exc

    @staticmethod
    def _token_info(slot_id: int, token) -> TokenInfo:
        serial = token.serial
        return TokenInfo(
            slot_id=slot_id,
            label=_text(token.label),
            serial=_text(serial),
            manufacturer=_text(token.manufacturer_id),
            model=_text(token.model),
            flags=TokenFlags.from_pkcs11(int(token.flags)),
        )

    def raw_token(self, label: str, *, rescan: bool = True, missing_ok: bool = False):
        """The python-pkcs11 Token labelled `label`. Not found: rescan once (hot-plug), then TokenNotPresent
        (or None with `missing_ok`).

        Internal to token_bridge: callers outside use sessions and keys.
        """
        with PKCS11_LOCK:
            token = self._find(label)
            if token is None and rescan:
                self.rescan()
                token = self._find(label)
            if token is None and not missing_ok:
                raise TokenNotPresent(label)
            return token

    def _find(self, label: str):
        try:
            slots = self._lib.get_slots(token_present=True)
        except pkcs11.exceptions.PKCS11Error:
            return None
        for slot in slots:
            try:
                token = slot.get_token()
            except pkcs11.exceptions.PKCS11Error:
                continue
            if _text(token.label) == label:
                return token
        return None

    def rescan(self) -> None:
        """Re-initialise the library so it sees tokens inserted or put back; every session ends."""
        with PKCS11_LOCK:
            try:
                self._lib.reinitialize()
            except pkcs11.exceptions.PKCS11Error as exc:
                raise ModuleLoadError(
                    f"PKCS#11 module {self.path} failed to re-initialise: {type(exc).__name__}",
                    f"Thư viện PKCS#11 {self.path} không khởi tạo lại được: {type(exc).__name__}",
                ) from exc
            self.generation += 1

    # -- sessions -----------------------------------------------------------------------------------

    def session(self, label: str, *, pin_prompt=None):
        """The process-wide logged-in session on the token `label` (token_bridge.session.TokenSession).

        DESIGN.md: log in once per process per token. The first caller's PIN prompt is kept for re-logins
        after a rescan; a later caller may pass its own, which replaces it.
        """
        from token_bridge.session import TokenSession

        with PKCS11_LOCK:
            session = self._sessions.get(label)
            if session is None:
                session = TokenSession(self, label, pin_prompt=pin_prompt)
                self._sessions[label] = session
            elif pin_prompt is not None:
                session.pin_prompt = pin_prompt
            return session

    def forget_session(self, label: str) -> None:
        with PKCS11_LOCK:
            session = self._sessions.pop(label, None)
            if session is not None:
                session.close()
