"""SoftHSM2 provisioning: a token directory of our own, and tokens initialised in it.

Nothing here touches the user's real SoftHSM configuration (/etc/softhsm/softhsm2.conf, ~/.config/softhsm2)
unless asked: `SoftHsmDirectory.create(folder)` writes a `softhsm2.conf` in `folder` pointing at
`folder/tokens`, and `activate()` points SOFTHSM2_CONF at it, which must happen before the library loads
in this process (DESIGN.md pitfall; `activate` refuses when the module is already loaded elsewhere).

Tokens are initialised in-process (C_InitToken on the free slot, then C_InitPIN): SoftHSM only reads its
token directory at C_Initialize, so a token made by `softhsm2-util` in another process is invisible to an
already loaded library until a rescan, which would end every session of the process.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pkcs11

from token_bridge.errors import ConfigurationError, TokenNotPresent, TokenOperationFailed
from token_bridge.module import DEFAULT_MODULE_PATH, PKCS11_LOCK, Pkcs11Module

SOFTHSM_MODULE_PATH = DEFAULT_MODULE_PATH
_CKR_NAMES = {0x00: "CKR_OK", 0xA0: "CKR_PIN_INCORRECT", 0xA2: "CKR_PIN_LEN_RANGE", 0xE0: "CKR_TOKEN_NOT_PRESENT",
              0x03: "CKR_SLOT_ID_INVALID", 0xB6: "CKR_SESSION_EXISTS", 0x05: "CKR_GENERAL_ERROR"}


@dataclass(frozen=True)
class SoftHsmDirectory:
    """A SoftHSM configuration file and the token directory it names."""

    folder: Path

    @property
    def conf_path(self) -> Path:
        return self.folder / "softhsm2.conf"

    @property
    def token_dir(self) -> Path:
        return self.folder / "tokens"

    @classmethod
    def create(cls, folder: str | os.PathLike, *, token_dir: str | os.PathLike | None = None) -> "SoftHsmDirectory":
        """Write `folder/softhsm2.conf` (file object store, errors only in syslog); harmless when repeated."""
        folder = Path(folder).resolve()
        directory = cls(folder)
        tokens = Path(token_dir).resolve() if token_dir else directory.token_dir
        tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.mkdir(parents=True, exist_ok=True)
        directory.conf_path.write_text(
            f"directories.tokendir = {tokens}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n",
            encoding="utf-8",
        )
        return directory

    def environment(self) -> dict[str, str]:
        """Environment for a child process (softhsm2-util, pkcs11-tool, a bridge) using this directory."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}

    def activate(self) -> None:
        """Point this process's SoftHSM at this directory. Must run before the library is loaded."""
        current = os.environ.get("SOFTHSM2_CONF")
        loaded = SOFTHSM_MODULE_PATH in Pkcs11Module._loaded
        if loaded and current != str(self.conf_path):
            raise ConfigurationError(
                f"SoftHSM is already loaded in this process with SOFTHSM2_CONF={current}; "
                f"{self.conf_path} cannot take effect.",
                f"SoftHSM đã được nạp với SOFTHSM2_CONF={current}; không thể dùng {self.conf_path}.",
            )
        os.environ["SOFTHSM2_CONF"] = str(self.conf_path)

    def token_folder(self, label: str) -> Path:
        """The folder SoftHSM keeps the token `label` in (its token.object holds the padded label)."""
        wanted = label.encode("utf-8").ljust(32)
        if self.token_dir.is_dir():
            for entry in sorted(self.token_dir.iterdir()):
                token_object = entry / "token.object"
                if token_object.is_file() and wanted in token_object.read_bytes():
                    return entry
        raise TokenNotPresent(label, f"no SoftHSM folder in {self.token_dir}", f"không có thư mục trong {self.token_dir}")

    def delete_token(self, label: str) -> None:
        """Delete a token with softhsm2-util (as an administrator would); its keys are gone for good."""
        result = subprocess.run(
            ["softhsm2-util", "--delete-token", "--token", label],
            env=self.environment(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise TokenOperationFailed(
                f"softhsm2-util could not delete token '{label}': {result.stderr.strip() or result.stdout.strip()}",
                f"softhsm2-util không xóa được thiết bị '{label}': {result.stderr.strip() or result.stdout.strip()}",
            )

    def unplug_token(self, label: str, *, parking: str | os.PathLike) -> "UnpluggedToken":
        """Move the token's folder out of the token directory, as if the USB token were pulled out."""
        source = self.token_folder(label)
        parking = Path(parking)
        parking.mkdir(parents=True, exist_ok=True)
        target = parking / source.name
        shutil.move(str(source), str(target))
        return UnpluggedToken(label=label, parked=target, home=source)


@dataclass(frozen=True)
class UnpluggedToken:
    label: str
    parked: Path
    home: Path

    def plug_back(self) -> None:
        shutil.move(str(self.parked), str(self.home))


def initialise_token(module: Pkcs11Module, *, label: str, so_pin: str, user_pin: str) -> None:
    """Initialise the free SoftHSM slot as a token `label` with these SO and user PINs, in this process.

    Raises `TokenOperationFailed` when a token with this label exists already (labels select tokens).
    """
    if not label or len(label.encode("utf-8")) > 32:
        raise ConfigurationError(
            f"A token label has 1 to 32 bytes (got {label!r}).",
            f"Nhãn thiết bị dài từ 1 đến 32 byte (nhận được {label!r}).",
        )
    with PKCS11_LOCK:
        if any(t.label == label for t in module.tokens()):
            raise TokenOperationFailed(
                f"A token labelled '{label}' exists already.", f"Đã có thiết bị mang nhãn '{label}'."
            )
        free = [s for s in module.slots() if s.token is not None and not s.token.flags.initialised]
        if not free:
            raise TokenOperationFailed(
                "SoftHSM has no free slot to initialise a token in.",
                "SoftHSM không còn khe trống để khởi tạo thiết bị.",
            )
        library = ctypes.CDLL(module.path)  # the same handle python-pkcs11 holds: same in-process state
        init_token = library.C_InitToken
        init_token.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        init_token.restype = ctypes.c_ulong
        so = so_pin.encode("utf-8")
        rv = init_token(free[0].slot_id, so, len(so), label.encode("utf-8").ljust(32))
        if rv != 0:
            raise TokenOperationFailed(
                f"C_InitToken failed for '{label}': {_CKR_NAMES.get(rv, hex(rv))}.",
                f"C_InitToken thất bại với '{label}': {_CKR_NAMES.get(rv, hex(rv))}.",
            )
        token = module.raw_token(label, rescan=False)
        try:
            with token.open(rw=True, so_pin=so_pin) as session:
                session.init_pin(user_pin)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise TokenOperationFailed(
                f"Setting the user PIN of '{label}' failed: {type(exc).__name__}.",
                f"Đặt mã PIN người dùng cho '{label}' thất bại: {type(exc).__name__}.",
            ) from exc

