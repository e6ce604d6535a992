"""The service answers at /health and serves its API documentation."""

from fastapi.testclient import TestClient


def test_health_and_docs(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "jobmatch"
    assert "/postings" in spec["paths"]


def test_request_id_is_echoed(client: TestClient) -> None:
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert r.headers["x-request-id"] != "x" * 500


def test_unknown_route_has_the_error_shape(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
