"""The outputs of a build.

Enters: rows as CSV text, table by table. Leaves: the Frictionless data
package (CSV files, datapackage.json, validated by frictionless itself),
the SQLite database loaded by sqlite-utils, and the zipped package.
"""
