"""The fuzz tests' association (tests.security.fuzzing.World), for any test here."""

from tests.security.fuzzing import world  # noqa: F401
