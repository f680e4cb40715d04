"""aiohttp's ``aiohttp.client`` names, for code that imports them from there.

``ClientSession`` and ``request`` live in :mod:`ferrofetch.session`, ``ClientResponse`` in
:mod:`ferrofetch.response`.
"""

from __future__ import annotations

from .response import ClientResponse
from .session import ClientSession, request

__all__ = ["ClientResponse", "ClientSession", "request"]
