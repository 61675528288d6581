"""The `kyso` command line and configuration loading."""

__version__ = "0.1.0"
