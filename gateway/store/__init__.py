"""Persistence: `Store` over SQLite or PostgreSQL, chosen by the database URL."""

from gateway.store.db import open_database
from gateway.store.store import Store


def store_for(url: str) -> Store:
    return Store(open_database(url))


__all__ = ["Store", "store_for"]
