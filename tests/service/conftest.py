"""The worker's flow with a fake channel at the edge: the channel and the router both test files drive."""

from __future__ import annotations

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.service.execution import Router
from tests.support.fakes import FakeChannel


@pytest.fixture
def fake() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def router(fake: FakeChannel) -> Router:
    return Router(channels={"wechat": fake, "alipay": fake}, is_workday=ChineseCalendar().is_workday)
