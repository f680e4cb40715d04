"""The pytest plugin of ferrofetch (registered by the ``pytest11`` entry point).

Fixture ``ferrofetch_mock``: a :class:`~ferrofetch.testing.MockRouter` installed for the test.
Its options come from the ``ferrofetch_mock`` marker, e.g.
``@pytest.mark.ferrofetch_mock(assert_all_called=True, passthrough=["http://127.0.0.1"])``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._router import MockRouter

__all__ = ["ferrofetch_mock"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ferrofetch_mock(**options): the options of the ferrofetch_mock fixture's MockRouter "
        "(assert_all_called, passthrough)",
    )


@pytest.fixture
def ferrofetch_mock(request: pytest.FixtureRequest) -> Iterator[MockRouter]:
    """A :class:`~ferrofetch.testing.MockRouter`, installed for the duration of the test."""
    marker = request.node.get_closest_marker("ferrofetch_mock")
    options = dict(marker.kwargs) if marker is not None else {}
    with MockRouter(**options) as router:
        yield router
