"""The token bridge's one error hierarchy, with the messages a person reads in Vietnamese and English.

STYLE.md: third-party exceptions are translated at the package boundary. No `pkcs11`, `requests` or Flask
exception reaches a caller of `token_bridge`: `translate_pkcs11_error` turns python-pkcs11's into these.
Every error has a stable `code` (what the HTTP API and kyso-bridge.js report), an English message
(`str(error)`) and a Vietnamese one (`message_vi`). None of them ever carries a PIN.
"""

from __future__ import annotations

import enum


class PinState(enum.Enum):
    """What the token says about its user PIN (PKCS#11 CK_TOKEN_INFO flags; tokens do not give counts)."""

    OK = "ok"
    COUNT_LOW = "count_low"  # CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last success
    FINAL_TRY = "final_try"  # CKF_USER_PIN_FINAL_TRY: the next wrong PIN locks the token
    LOCKED = "locked"  # CKF_USER_PIN_LOCKED

    @property
    def description_en(self) -> str:
        return {
            PinState.OK: "no failed attempts recorded",
            PinState.COUNT_LOW: "the token has recorded wrong PIN attempts; it will lock after a few more",
            PinState.FINAL_TRY: "one try remains: the next wrong PIN locks the token",
            PinState.LOCKED: "the PIN is locked",
        }[self]

    @property
    def description_vi(self) -> str:
        return {
            PinState.OK: "chưa có lần nhập sai",
            PinState.COUNT_LOW: "thiết bị đã ghi nhận lần nhập sai mã PIN; thêm vài lần sai nữa sẽ bị khóa",
            PinState.FINAL_TRY: "chỉ còn một lần thử: nhập sai lần nữa thiết bị sẽ bị khóa",
            PinState.LOCKED: "mã PIN đã bị khóa",
        }[self]


class TokenBridgeError(Exception):
    """Base of every error the token bridge raises. `str()` is English; `message_vi` is Vietnamese."""

    code = "bridge_error"
    http_status = 500

    def __init__(self, message_en: str, message_vi: str | None = None):
        super().__init__(message_en)
        self.message_en = message_en
        self.message_vi = message_vi or message_en

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message_en, "message_vi": self.message_vi}


class ConfigurationError(TokenBridgeError):
    code = "configuration_error"


class ModuleLoadError(TokenBridgeError):
    """The PKCS#11 library cannot be loaded or initialised."""

    code = "module_unavailable"
    http_status = 503


class TokenNotPresent(TokenBridgeError):
    """No token with this label is present (never inserted, removed, or its module failed)."""

    code = "token_not_present"
    http_status = 503

    def __init__(self, label: str, detail_en: str = "", detail_vi: str = ""):
        self.label = label
        en = f"Token '{label}' is not present{': ' + detail_en if detail_en else ''}. Insert it and try again."
        vi = (
            f"Không tìm thấy thiết bị ký số '{label}'{': ' + detail_vi if detail_vi else ''}. "
            "Hãy cắm thiết bị và thử lại."
        )
        super().__init__(en, vi)


class TokenPinError(TokenBridgeError):
    """Base of the PIN problems; `pin_state` is what the token reports now."""

    code = "pin_error"
    http_status = 403

    def __init__(self, message_en: str, message_vi: str, *, label: str, pin_state: PinState):
        super().__init__(message_en, message_vi)
        self.label = label
        self.pin_state = pin_state

    def to_json(self) -> dict:
        return {**super().to_json(), "pin_state": self.pin_state.value}


class TokenPinIncorrect(TokenPinError):
    code = "pin_incorrect"

    def __init__(self, label: str, pin_state: PinState):
        super().__init__(
            f"Wrong PIN for token '{label}': {pin_state.description_en}.",
            f"Mã PIN của thiết bị '{label}' không đúng: {pin_state.description_vi}.",
            label=label,
            pin_state=pin_state,
        )


class TokenPinLocked(TokenPinError):
    code = "pin_locked"

    def __init__(self, label: str):
        super().__init__(
            f"The PIN of token '{label}' is locked; ask the administrator to unlock it with the SO PIN. "
            "No attempt was made.",
            f"Mã PIN của thiết bị '{label}' đã bị khóa; hãy liên hệ quản trị viên để mở khóa. "
            "Không thử đăng nhập.",
            label=label,
            pin_state=PinState.LOCKED,
        )


class TokenPinFinalTryNotConfirmed(TokenPinError):
    """The token is at its final try and the user did not confirm the attempt: nothing was sent."""

    code = "pin_final_try_not_confirmed"

    def __init__(self, label: str):
        super().__init__(
            f"Token '{label}' is at its final PIN try (a wrong PIN locks it) and the attempt was not "
            "confirmed, so no PIN was sent.",
            f"Thiết bị '{label}' chỉ còn một lần nhập PIN (sai sẽ bị khóa) và người dùng chưa xác nhận, "
            "nên chưa gửi mã PIN.",
            label=label,
            pin_state=PinState.FINAL_TRY,
        )


class PinEntryCancelled(TokenPinError):
    code = "pin_cancelled"

    def __init__(self, label: str, pin_state: PinState = PinState.OK):
        super().__init__(
            f"PIN entry for token '{label}' was cancelled.",
            f"Người dùng đã hủy nhập mã PIN cho thiết bị '{label}'.",
            label=label,
            pin_state=pin_state,
        )


class EnvironmentPinRejected(TokenPinError):
    """A PIN read from the environment was refused once by this token: it is not tried on the token again
    until the bridge restarts (the same wrong PIN repeated would only count the token down to locked)."""

    code = "pin_env_rejected"

    def __init__(self, label: str, variable: str, pin_state: PinState = PinState.OK):
        super().__init__(
            f"The PIN from environment variable {variable} was refused by token '{label}'; the bridge does not "
            "try it on this token again until it is restarted.",
            f"Mã PIN trong biến môi trường {variable} đã bị thiết bị '{label}' từ chối; cầu nối không thử lại "
            "trên thiết bị này cho đến khi khởi động lại.",
            label=label,
            pin_state=pin_state,
        )


class TokenPinBackoff(TokenPinError):
    """Logins to this token failed repeatedly: the next attempt must wait (doubling, at most five minutes)."""

    code = "pin_backoff"
    http_status = 429

    def __init__(self, label: str, *, failures: int, retry_after_seconds: int):
        super().__init__(
            f"After {failures} failed login(s) on token '{label}', the next attempt waits: try again in "
            f"{retry_after_seconds} seconds.",
            f"Sau {failures} lần đăng nhập thất bại trên thiết bị '{label}', hãy thử lại sau "
            f"{retry_after_seconds} giây.",
            label=label,
            pin_state=PinState.OK,
        )
        self.retry_after_seconds = retry_after_seconds


class ConsentRefused(TokenBridgeError):
    code = "consent_refused"
    http_status = 403

    def __init__(self):
        super().__init__(
            "The user refused to sign.", "Người dùng đã từ chối ký."
        )


class KeyNotFound(TokenBridgeError):
    code = "key_not_found"
    http_status = 404


class CertificateNotFound(TokenBridgeError):
    code = "certificate_not_found"
    http_status = 404

    def __init__(self, certificate_id: str):
        self.certificate_id = certificate_id
        super().__init__(
            f"No certificate with id '{certificate_id}' on any present token.",
            f"Không có chứng thư số có mã '{certificate_id}' trên thiết bị nào đang cắm.",
        )


class CertificateNotUsable(TokenBridgeError):
    """The certificate is outside its validity period now (DOMAIN.md: check before signing)."""

    code = "certificate_not_usable"
    http_status = 422


class AlgorithmRefused(TokenBridgeError):
    """The signing policy forbids the algorithm or key (SHA-1, RSA below 2048 bits, unknown curves)."""

    code = "algorithm_refused"
    http_status = 422


class InvalidSignRequest(TokenBridgeError):
    """A signing request is malformed (digest length, base64, unknown names)."""

    code = "invalid_request"
    http_status = 400


class TokenOperationFailed(TokenBridgeError):
    """The token or its module failed in a way not covered above; the message names the PKCS#11 error."""

    code = "token_error"
    http_status = 502


class KeyCertificateMismatch(TokenOperationFailed):
    """The token's signature does not verify with the certificate: a wrong CKA_ID pairing or a faulty token."""

    code = "key_certificate_mismatch"


class BridgeUnavailable(TokenBridgeError):
    """A bridge client cannot reach the bridge (raised by `token_bridge.client`)."""

    code = "bridge_unavailable"
    http_status = 503
