"""End-to-end tests: real bot processes driven over real sockets by the stand-ins in this folder."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test driving a real bot process over real sockets")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item (item.e2e_reports["call"].failed) for fixtures to look at."""
    report = yield
    item.__dict__.setdefault("e2e_reports", {})[report.when] = report
    return report
