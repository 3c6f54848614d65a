import pytest

from tests.sms_codes import test_inbound


@pytest.fixture(autouse=True)
def _sessions(sessionmaker):
    test_inbound.SESSIONS[:] = [sessionmaker]
