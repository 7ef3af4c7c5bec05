from tests.signoff.conftest import signoff  # noqa: F401  (the same campaign in sign-off)
