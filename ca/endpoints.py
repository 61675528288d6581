"""Where the PKI publishes itself: the URLs written into certificates (AIA, CRL distribution points).

DESIGN.md, "PKI HTTP": `GET /pki/<ca>.crt`, `GET /pki/<ca>.crl`, OCSP at `/pki/ocsp`, time-stamping at
`/pki/tsa`. `base_url` is the public origin (scheme, host, port) that serves them, e.g. `http://ca.kyso.local`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PkiEndpoints:
    base_url: str

    def __post_init__(self):
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def certificate_url(self, ca_name: str) -> str:
        return f"{self.base_url}/pki/{ca_name}.crt"

    def crl_url(self, ca_name: str) -> str:
        return f"{self.base_url}/pki/{ca_name}.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/pki/ocsp"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/pki/tsa"
