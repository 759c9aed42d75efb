"""Fixtures of the live echo tests."""

import pytest


@pytest.fixture
def echo_path(pulse):
    """module-loopback: everything the virtual speaker plays comes back into the microphone."""
    module = pulse.loopback()
    yield
    pulse.unload(module)
