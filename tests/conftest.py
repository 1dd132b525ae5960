"""Fixtures shared across test modules."""

from tests.fake_github import fake_github  # noqa: F401  (the loopback fake GitHub, a factory fixture)
