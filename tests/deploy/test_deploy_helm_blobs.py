"""The Helm chart's blob store: the shared folder on a ReadWriteMany claim, or a bucket (S3, GCS,
Azure) with credentials from a Secret or workload identity; the scratch folder in both modes.

The env each pod gets is read back through the services' own ``BlobSettings``, so a value the
chart renders is one the services accept.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import BlobSettings

BLOB_USERS = {"gateway", "text", "analytics", "audio", "video", "training"}
BUCKET_SETS = ("s3-bucket", "bucket-workload-identity")


def prefix(service: str) -> str:
    return f"CLIPSIFT_{service.upper()}_"


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def volumes(deployment: dict[str, Any]) -> dict[str, Any]:
    return {v["name"]: v for v in pod(deployment)["volumes"]}


def mounts(deployment: dict[str, Any], k8s: SimpleNamespace) -> dict[str, Any]:
    return {m["name"]: m for m in k8s.container(deployment)["volumeMounts"]}


def blob_settings(service: str, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> BlobSettings:
    """The service's blob settings as it would read them from this env (Secret refs left out)."""

    class Settings(BlobSettings):
        model_config = SettingsConfigDict(env_prefix=prefix(service), extra="ignore")

    for name, entry in env.items():
        if name.startswith(prefix(service)) and "value" in entry:
            monkeypatch.setenv(name, entry["value"])
    return Settings()


def test_folder_mode_mounts_the_claim_and_a_scratch_folder(
    k8s: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = k8s.render_value_set("defaults")
    deployments = k8s.by_kind(manifests, "Deployment")
    for name, deployment in deployments.items():
        env = k8s.env_names(deployment)
        if name not in BLOB_USERS:
            assert not {"blobs", "scratch"} & set(volumes(deployment)), name
            assert not any("BLOB" in key or "SCRATCH" in key for key in env), name
            continue
        settings = blob_settings(name, env, monkeypatch)
        assert settings.blob_url is None
        assert str(settings.blob_dir) == mounts(deployment, k8s)["blobs"]["mountPath"]
        assert str(settings.scratch) == mounts(deployment, k8s)["scratch"]["mountPath"]
        assert volumes(deployment)["scratch"]["emptyDir"] == {"sizeLimit": "20Gi"}
        assert "persistentVolumeClaim" in volumes(deployment)["blobs"]
        assert not any(key.startswith(("AWS_", "AZURE_", "GOOGLE_")) for key in env)


@pytest.mark.parametrize("value_set", BUCKET_SETS)
def test_bucket_mode_has_no_volume(
    k8s: SimpleNamespace, value_set: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = k8s.render_value_set(value_set)
    k8s.validate(manifests)
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"], "no claim in bucket mode"
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        assert "blobs" not in volumes(deployment), name
        if name not in BLOB_USERS:
            continue
        settings = blob_settings(name, k8s.env_names(deployment), monkeypatch)
        assert settings.blob_dir is None
        assert settings.blob_url is not None
        assert settings.blob_url.startswith(("s3://", "gs://"))
        assert settings.blob_allow_http is False, "cloud buckets over HTTPS only"
        assert str(settings.scratch) == mounts(deployment, k8s)["scratch"]["mountPath"]
        assert "emptyDir" in volumes(deployment)["scratch"], "writable scratch on a read-only root"


def test_s3_credentials_come_from_the_secret(k8s: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    deployments = k8s.by_kind(k8s.render_value_set("s3-bucket"), "Deployment")
    for name in BLOB_USERS:
        env = k8s.env_names(deployments[name])
        settings = blob_settings(name, env, monkeypatch)
        assert settings.blob_url == "s3://clipsift-media/prod"
        assert settings.blob_options == {"aws_region": "eu-west-1"}
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            ref = env[variable]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "clipsift-blobs", "key": variable}
        assert "AWS_SESSION_TOKEN" not in env
        assert volumes(deployments[name])["scratch"]["emptyDir"] == {"sizeLimit": "50Gi"}
    assert "AWS_ACCESS_KEY_ID" not in k8s.env_names(deployments["vision"]), "vision keeps no blobs"


def test_workload_identity_needs_no_secret(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("bucket-workload-identity")
    account = next(m for m in manifests if m["kind"] == "ServiceAccount")
    annotations = account["metadata"]["annotations"]
    assert annotations == {"iam.gke.io/gcp-service-account": "clipsift@media-project.iam.gserviceaccount.com"}
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        assert pod(deployment)["serviceAccountName"] == account["metadata"]["name"]
        env = k8s.env_names(deployment)
        assert not [key for key in env if key.startswith(("AWS_", "AZURE_", "GOOGLE_"))], name
        assert "google-credentials" not in volumes(deployment)


def test_gcs_key_file_is_mounted_read_only(k8s: SimpleNamespace) -> None:
    manifests = k8s.helm_template(sets=("blobs.url=gs://media/clips", "blobs.existingSecret=gcs-key"))
    k8s.validate(manifests)
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        if name not in BLOB_USERS:
            assert "google-credentials" not in volumes(deployment)
            continue
        volume = volumes(deployment)["google-credentials"]["secret"]
        assert volume == {
            "secretName": "gcs-key",
            "items": [{"key": "credentials.json", "path": "credentials.json"}],
        }
        mount = mounts(deployment, k8s)["google-credentials"]
        assert mount["readOnly"] is True
        path = k8s.env_names(deployment)["GOOGLE_APPLICATION_CREDENTIALS"]["value"]
        assert path == f"{mount['mountPath']}/credentials.json"


def test_azure_account_key_and_workload_identity_label(k8s: SimpleNamespace) -> None:
    sets = (
        "blobs.url=az://media/clips",
        "blobs.options.azure_storage_account_name=clipsiftmedia",
        "blobs.existingSecret=azure-blobs",
        "blobs.azureWorkloadIdentity=true",
        "serviceAccount.annotations.azure\\.workload\\.identity/client-id=00000000-0000-0000-0000-000000000001",
    )
    manifests = k8s.helm_template(sets=sets)
    k8s.validate(manifests)
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        env = k8s.env_names(deployment)
        if name not in BLOB_USERS:
            assert "azure.workload.identity/use" not in labels
            continue
        assert labels["azure.workload.identity/use"] == "true"
        ref = env["AZURE_STORAGE_ACCOUNT_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "azure-blobs", "key": "AZURE_STORAGE_ACCOUNT_KEY"}
        assert json.loads(env[prefix(name) + "BLOB_OPTIONS"]["value"]) == {
            "azure_storage_account_name": "clipsiftmedia"
        }
        # The selector stays the component's: the extra label does not orphan the ReplicaSets.
        assert "azure.workload.identity/use" not in deployment["spec"]["selector"]["matchLabels"]


def test_in_cluster_s3_over_http(k8s: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    sets = (
        "blobs.url=s3://clipsift",
        "blobs.options.aws_endpoint=http://seaweedfs-s3.storage:8333",
        "blobs.allowHttp=true",
        "blobs.existingSecret=seaweedfs-keys",
        "blobs.networkPolicyPorts={8333}",
        "blobs.networkPolicyPeers[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=storage",
    )
    manifests = k8s.helm_template(sets=sets)
    k8s.validate(manifests)
    video = k8s.by_kind(manifests, "Deployment")["video"]
    settings = blob_settings("video", k8s.env_names(video), monkeypatch)
    assert settings.blob_allow_http is True
    assert settings.blob_options == {"aws_endpoint": "http://seaweedfs-s3.storage:8333"}
    policy = k8s.by_kind(manifests, "NetworkPolicy")["video"]
    rule = next(r for r in policy["spec"]["egress"] if r["ports"] == [{"port": 8333, "protocol": "TCP"}])
    assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "storage"}}}]


@pytest.mark.parametrize("value_set", ["defaults", *BUCKET_SETS])
def test_only_blob_users_reach_the_bucket(k8s: SimpleNamespace, value_set: str) -> None:
    policies = k8s.by_kind(k8s.render_value_set(value_set), "NetworkPolicy")
    expected = {"s3-bucket": [443], "bucket-workload-identity": [443, 80]}.get(value_set, [])
    for name, policy in policies.items():
        ports = [p["port"] for rule in policy["spec"].get("egress", []) for p in rule["ports"]]
        reaches = [port for port in (443, 80) if port in ports]
        assert reaches == (expected if name in BLOB_USERS else []), f"{value_set}: {name}"


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (["blobs.url=http://minio:9000/clipsift"], "/blobs/url"),
        (["blobs.url=s3://"], "/blobs/url"),
        (["blobs.options.aws_secret_access_key=plain"], "invalid propertyName 'aws_secret_access_key'"),
        (
            ["blobs.options.azure_storage_account_key=plain"],
            "invalid propertyName 'azure_storage_account_key'",
        ),
        (["blobs.options.aws_virtual_hosted_style_request=false"], "/blobs/options"),  # a bool, not a string
        (["blobs.scratch.sizeLimit=lots"], "/blobs/scratch/sizeLimit"),
        (["blobs.networkPolicyPorts={0}"], "/blobs/networkPolicyPorts"),
        (["blobs.secretKeys.awsAccessKeyId="], "/blobs/secretKeys/awsAccessKeyId"),
        (["blobs.bucket=media"], "bucket"),
    ],
)
def test_bad_blob_values_are_rejected(k8s: SimpleNamespace, bad: list[str], complaint: str) -> None:
    sets = [arg for value in bad for arg in ("--set", value)]
    for command in (["lint", "--strict"], ["template"]):
        result = k8s.run(k8s.tool("helm"), *command, str(k8s.CHART), *sets, check=False)
        assert result.returncode != 0, f"helm {command} accepted {bad}"
        assert complaint in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (["blobs.existingSecret=keys"], "set blobs.url too"),
        (["blobs.url=s3://media", "blobs.azureWorkloadIdentity=true"], "needs an az:// blobs.url"),
    ],
)
def test_contradicting_blob_values_fail_to_render(
    k8s: SimpleNamespace, bad: list[str], complaint: str
) -> None:
    sets = [arg for value in bad for arg in ("--set", value)]
    result = k8s.run(k8s.tool("helm"), "template", str(k8s.CHART), *sets, check=False)
    assert result.returncode != 0, f"helm template accepted {bad}"
    assert complaint in result.stderr
