"""The fact table's columnar replica on MariaDB/MySQL/SQLite: day versions kept by the writers, Parquet files per
template × UTC day built from one consistent read, and the read that merges current files with the row store."""
