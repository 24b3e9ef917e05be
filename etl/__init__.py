"""agingkb: the aging wiki as a validated Frictionless data package and SQLite database."""

__version__ = "0.1.0"
