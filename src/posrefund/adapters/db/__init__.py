"""SQLAlchemy Core storage: SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL."""
