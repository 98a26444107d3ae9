"""What every command shares: the configuration and the database, opened lazily."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Config, load_config

if TYPE_CHECKING:
    from bot.store import Store


def default_author() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class AppContext:
    config_path: str | None = None
    db_path: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, overrides={"db_path": self.db_path})
        return self._config

    @property
    def store(self) -> Store:
        """The database for a command that writes; it must have been made by `init`."""
        if self._store is None:
            from bot.store import Store

            self._store = Store.open(self.config.db_path, create=False)
        return self._store

    @property
    def new_store(self) -> Store:
        """The database for `init`: created or upgraded in place."""
        if self._store is None:
            from bot.store import Store

            self._store = Store.open(self.config.db_path, create=True)
        return self._store

    @property
    def reader(self) -> Store:
        """The database opened read-only, for the commands that only show things."""
        if self._store is None:
            from bot.store import Store

            self._store = Store.open(self.config.db_path, readonly=True)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
