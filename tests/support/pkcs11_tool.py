"""OpenSC's pkcs11-tool as an independent reader of a token's objects (tests only).

    pkcs11_tool_objects(environment, token_label, pin, module=...) -> sorted [(kind, label, id_hex)]

`environment` is the child process's environment with the token's SOFTHSM2_CONF (for the session's SoftHSM,
`softhsm.directory.environment()`); kind is pkcs11-tool's heading ("Private Key Object", "Public Key
Object", "Certificate Object"); the id is lower-case hex as pkcs11-tool prints it.
"""

from __future__ import annotations

import subprocess

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def pkcs11_tool_objects(environment: dict[str, str], token_label: str, pin: str, *,
                        module: str = SOFTHSM_MODULE) -> list[tuple[str, str, str]]:
    listing = subprocess.run(
        ["pkcs11-tool", "--module", module, "--token-label", token_label, "--login", "--pin", pin,
         "--list-objects"],
        env=environment, capture_output=True, text=True, timeout=60,
    )
    if listing.returncode != 0:
        raise AssertionError(f"pkcs11-tool --list-objects failed ({listing.returncode}): {listing.stderr}")
    objects: list[dict[str, str]] = []
    for line in listing.stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            objects.append({"kind": line.split(";")[0].strip()})
        elif ":" in line and objects:
            key, _, value = line.strip().partition(":")
            objects[-1].setdefault(key.strip(), value.strip())
    return sorted((o["kind"], o.get("label", ""), o.get("ID", "").lower()) for o in objects)
