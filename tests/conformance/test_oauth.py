"""intuit-oauth against the sandbox's OAuth endpoints: code exchange, refresh, revoke."""

import pytest
from intuitlib.exceptions import AuthClientError

from conftest import authorize, new_auth_client


def test_code_exchange_gives_tokens_with_intuits_lifetimes(connected):
    auth_client, realm_id = connected
    assert auth_client.access_token and auth_client.refresh_token
    assert auth_client.expires_in == 3600
    assert auth_client.x_refresh_token_expires_in > 8_000_000
    assert realm_id.isdigit()


def test_refresh_gives_a_new_access_token(sandbox):
    auth_client = new_auth_client(sandbox)
    callback = authorize(auth_client)
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    first = auth_client.access_token
    auth_client.refresh()
    assert auth_client.access_token != first
    assert auth_client.refresh_token


def test_a_code_cannot_be_exchanged_twice(sandbox):
    auth_client = new_auth_client(sandbox)
    callback = authorize(auth_client)
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    with pytest.raises(AuthClientError) as refused:
        auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    assert refused.value.status_code == 400
    assert b"invalid_grant" in refused.value.content


def test_a_revoked_refresh_token_is_an_invalid_grant(sandbox):
    auth_client = new_auth_client(sandbox)
    callback = authorize(auth_client)
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    refresh_token = auth_client.refresh_token
    assert auth_client.revoke(token=refresh_token)
    with pytest.raises(AuthClientError) as refused:
        auth_client.refresh(refresh_token=refresh_token)
    assert b"invalid_grant" in refused.value.content
