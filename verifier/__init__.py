"""Validation of PAdES and CAdES signatures into ETSI EN 319 102-1 reports."""
