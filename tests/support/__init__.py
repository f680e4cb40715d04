"""The test suite's helpers: loopback servers, TLS material, payloads, measuring and waiting.

Tests import them from :mod:`tests.servers`, which re-exports every public name here.
"""
