"""Django's SQLite backend, with write transactions that queue promptly (see ``base``)."""
