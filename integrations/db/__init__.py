"""The database layer: tables, sessions and the queries the application service needs."""
