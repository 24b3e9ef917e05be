"""agingkb: the aging wiki as a validated Frictionless data package and SQLite database."""
