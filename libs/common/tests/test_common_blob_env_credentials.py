"""Credentials from the backend's own environment, as Kubernetes gives them (the Helm chart's Secret
refs: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_ACCOUNT_KEY) while BLOB_OPTIONS
holds only the non-secret keys: the store works with the right ones and is refused with wrong ones,
on the real S3 and Azure servers of the test session."""

from __future__ import annotations

import base64

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget

from clipsift_common.objectstore import ObjectBlobStore

SECRETS = {
    "s3_target": {"aws_access_key_id": "AWS_ACCESS_KEY_ID", "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY"},
    "azure_target": {"azure_storage_account_key": "AZURE_STORAGE_ACCOUNT_KEY"},
}
WRONG = base64.b64encode(b"not-the-secret-not-the-secret!!!").decode()


@pytest.mark.parametrize("server", SECRETS)
def test_credentials_from_the_environment(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    target: ObjectStoreTarget = request.getfixturevalue(server)
    options = {key: value for key, value in target.options.items() if key not in SECRETS[server]}
    for option, variable in SECRETS[server].items():
        monkeypatch.setenv(variable, target.options[option])
    store = ObjectBlobStore(target.url, options, target.client_options)
    store.put_bytes("tenants/a/from-env", b"keys from the environment")
    assert store.read_bytes("tenants/a/from-env") == b"keys from the environment"

    secret_variable = list(SECRETS[server].values())[-1]
    monkeypatch.setenv(secret_variable, WRONG)
    refused = ObjectBlobStore(target.url, options, target.client_options)
    with pytest.raises(Exception, match=r"403|Forbidden|SignatureDoesNotMatch|denied|AuthorizationFailure"):
        refused.put_bytes("tenants/a/refused", b"x")
