"""The append-only, hash-chained record of documents and signatures, and the monthly rate reports."""
