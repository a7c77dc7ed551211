"""Helpers shared by the tests: servers, repositories and independent oracles."""
