"""The outputs of a build.

Enters: rows as CSV text, table by table. Leaves: the Frictionless data
package (CSV and Parquet files, datapackage.json, validated by frictionless itself),
the SQLite database loaded by sqlite-utils, and the zipped package.

csv_text.py      rows as CSV text, and the open CSV file of every table
descriptor.py    datapackage.json (its prose is data/site.yml's `package`)
fingerprints.py  what each resource's verdict depends on; what changed
validation.py    frictionless on worker processes, the verdict of its CLI
frictionless_patch.py  the patches of frictionless (speed only), for 5.21.0 only
parquet.py       each table's Parquet file (in the package) and NDJSON file (served)
archive.py       the zip, byte for byte the same for the same package
database.py      the SQLite database, loaded or patched from the CSV files
"""
