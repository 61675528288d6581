"""PKCS#11 tokens on the official's computer, and the loopback HTTP API that clients call to sign."""

__version__ = "0.1.0"
