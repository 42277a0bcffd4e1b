import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The browser caches its filter choices briefly; each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def moto_s3():
    """One moto server (real HTTP on loopback) for the session; each test makes its bucket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def file_anchors(settings, tmp_path):
    """The development anchor store: a folder."""
    from audit.anchors import anchor_store

    settings.AUDIT_ANCHOR_URL = f"file://{tmp_path / 'anchors'}"
    return anchor_store()


@pytest.fixture
def s3_anchors(settings, moto_s3, monkeypatch):
    """The production anchor store: an S3 bucket with Object Lock in compliance mode."""
    import uuid

    import boto3

    from audit.anchors import anchor_store

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    bucket = f"anchors-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_s3, region_name=settings.AWS_REGION)
    client.create_bucket(
        Bucket=bucket,
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": settings.AWS_REGION},
    )
    client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    settings.AUDIT_ANCHOR_URL = f"s3://{bucket}/opsportal/audit"
    settings.AUDIT_ANCHOR_ENDPOINT_URL = moto_s3
    store = anchor_store()
    store.s3, store.bucket_name = client, bucket  # for tests that play the attacker
    return store


@pytest.fixture(params=["file", "s3"])
def anchors(request):
    """Each anchor store in turn."""
    return request.getfixturevalue(f"{request.param}_anchors")


@pytest.fixture
def roles():
    """Scratch app/archiver/plain roles made by the production script, dropped after the
    test (committed, so the test must be `transaction=True`)."""
    from tests.audit.roles import scratch_roles

    with scratch_roles() as made:
        yield made
