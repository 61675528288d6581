"""The government certificate authority: issuance, revocation, CRLs, OCSP and RFC 3161 time-stamping."""
