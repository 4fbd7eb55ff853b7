"""End-to-end tests: real bot processes driven over real sockets by the stand-ins in this folder.

Every scenario runs on SQLite and on PostgreSQL (`bot_database_url`): the bot process migrates a new, empty
database of the scenario's own at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import databases


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test driving a real bot process over real sockets")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item (item.e2e_reports["call"].failed) for fixtures to look at."""
    report = yield
    item.__dict__.setdefault("e2e_reports", {})[report.when] = report
    return report


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bot_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database a bot process of this module runs on: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('database') / 'yijing.db'}"
        return
    name = databases.create_database("yijing_e2e", migrate=False)
    try:
        yield databases.database_url(name)
    finally:
        databases.drop_database(name)
