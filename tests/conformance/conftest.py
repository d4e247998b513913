"""Starts the qbo-sandbox binary once for the session and connects the public clients to it."""

import os
import subprocess
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from quickbooks import QuickBooks

# The sandbox speaks plain http on loopback; oauthlib refuses that unless told it is a local test.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

CLIENT_ID = "conformance-client"
CLIENT_SECRET = "conformance-secret"
REDIRECT_URI = "http://localhost:8765/callback"


@pytest.fixture(scope="session")
def sandbox():
    binary = os.environ.get("QBO_SANDBOX_BIN", "target/debug/qbo-sandbox")
    process = subprocess.Popen(
        [binary, "--port", "0", "--auto-approve", "first", "--no-limits"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first_line = process.stdout.readline().strip()
    assert first_line.startswith("qbo-sandbox listening on "), first_line
    base = first_line.rsplit(" ", 1)[-1]
    registered = requests.post(
        f"{base}/admin/apps",
        json={
            "name": "Conformance",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
        },
        timeout=10,
    )
    registered.raise_for_status()
    yield base
    process.terminate()
    process.wait(timeout=10)


def new_auth_client(base):
    """An intuit-oauth client whose discovery document is the sandbox's."""
    return AuthClient(
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT_URI,
        environment=f"{base}/.well-known/openid_sandbox_configuration",
    )


def authorize(auth_client):
    """Follows the authorization URL to the redirect, as a browser would, and returns its query."""
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING])
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303, 307), response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}


@pytest.fixture(scope="session")
def connected(sandbox):
    """An AuthClient that went through the code exchange, and the realm it connected."""
    auth_client = new_auth_client(sandbox)
    callback = authorize(auth_client)
    assert callback["state"] == auth_client.state_token
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    return auth_client, callback["realmId"]


@pytest.fixture(scope="session")
def qb(sandbox, connected):
    """A python-quickbooks client pointed at the sandbox instead of Intuit."""
    auth_client, realm_id = connected
    client = QuickBooks(
        auth_client=auth_client,
        refresh_token=auth_client.refresh_token,
        company_id=realm_id,
        minorversion=75,
    )
    # The library picks Intuit's URL from these attributes; the sandbox serves the same paths.
    client.api_url_v3 = f"{sandbox}/v3"
    client.sandbox_api_url_v3 = f"{sandbox}/v3"
    return client
