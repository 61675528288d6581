"""PAdES and CAdES signatures with the Decree 30 layouts, from any key that can sign a digest."""
