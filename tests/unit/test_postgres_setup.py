"""Two processes opening a new PostgreSQL store at once: the loser of the migration race
(``checkpoint_migrations_pkey`` already holds the row) retries instead of failing (seen in CI
when two writers started together on a fresh schema)."""

from __future__ import annotations

import pytest
from psycopg.errors import UniqueViolation

from crossroads.checkpoints import SETUP_TRIES, _setup_postgres


class RacingSaver:
    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    async def setup(self) -> None:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise UniqueViolation('duplicate key value violates "checkpoint_migrations_pkey"')


async def test_a_lost_migration_race_is_retried() -> None:
    saver = RacingSaver(conflicts=1)
    await _setup_postgres(saver)
    assert saver.calls == 2


async def test_the_retries_are_bounded() -> None:
    saver = RacingSaver(conflicts=SETUP_TRIES)
    with pytest.raises(UniqueViolation):
        await _setup_postgres(saver)
    assert saver.calls == SETUP_TRIES
