"""Signing and validation policies as data, certificate profiles and identities, trust anchors.

Pure: values in, values out. No I/O beyond reading the data files shipped inside this package.
"""
