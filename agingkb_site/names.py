"""Names the site and the ETL share. Imports nothing: the ETL reads it
without the site's dependencies, the site without the ETL's."""

DATABASE = "agingkb"  # the database's name in Datasette: its file is agingkb.db, its URLs /agingkb/...
