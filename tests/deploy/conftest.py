"""Fixtures of the deployment checks."""

from __future__ import annotations

import pytest

from tests.deploy.support import tools_installed


@pytest.fixture(scope="session")
def deploy_tools() -> None:
    """The Compose CLI and kustomize, once the session's background installation of them is done."""
    tools_installed()
