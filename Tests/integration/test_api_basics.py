"""The Engine API's basics, with a raw HTTP client: ping, version,
versioned paths, errors, info."""

import os

import pytest

import moortest

PING_HEADERS = ("API-Version", "OSType", "Cache-Control", "Pragma")


def test_ping_get_answers_ok_with_docker_headers(moor):
    r = moor.api("GET", "/_ping")
    assert r.status == 200
    assert r.body == b"OK"
    for name in PING_HEADERS:
        assert r.header(name), f"missing {name}: {r.headers}"
    assert r.header("OSType") == "linux"
    assert "no-cache" in r.header("Cache-Control")
    assert r.header("Pragma") == "no-cache"


def test_ping_head_has_headers_and_empty_body(moor):
    r = moor.api("HEAD", "/_ping")
    assert r.status == 200
    assert r.body == b""
    for name in PING_HEADERS:
        assert r.header(name), f"missing {name}: {r.headers}"
    assert r.header("API-Version") == moor.api("GET", "/_ping").header("API-Version")


def test_ping_head_body_is_really_empty_on_the_wire(moor):
    # http.client never reads a HEAD body: read the bytes ourselves, and
    # check a second request on the same connection is answered cleanly.
    sock = moortest.raw_connect(moor.socket)
    try:
        sock.sendall(b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\nGET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        status, headers, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200"), status
        assert rest.startswith(b"HTTP/1.1 200") or rest == b"", rest[:80]
        while b"\r\n\r\nOK" not in rest:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed: {rest!r}"
            rest += chunk
        assert rest.startswith(b"HTTP/1.1 200"), f"bytes after the HEAD response: {rest[:80]!r}"
    finally:
        sock.close()


def test_version_reports_api_versions(moor):
    v = moor.api("GET", "/version").json()
    assert v["ApiVersion"] == moor.api("GET", "/_ping").header("API-Version")
    assert v["MinAPIVersion"]
    assert v["Os"] == "linux"
    assert v["Version"]
    # docker-py's version negotiation works with what moord answers
    assert moor.client.version()["ApiVersion"] == v["ApiVersion"]


@pytest.mark.parametrize("path", ["/_ping", "/version", "/info", "/containers/json", "/images/json"])
def test_versioned_and_unversioned_paths_answer_alike(moor, path):
    version = moor.api("GET", "/version").json()["ApiVersion"]
    plain = moor.api("GET", path)
    versioned = moor.api("GET", f"/v{version}{path}")
    assert plain.status == 200 and versioned.status == 200
    assert moor.api("GET", f"/v1.24{path}").status == 200


def test_too_old_api_version_is_400_too_old(moor):
    r = moor.api("GET", "/v1.11/version")
    assert r.status == 400
    assert "too old" in r.json()["message"]
    assert "1.11" in r.json()["message"]


def test_unknown_path_is_404_with_json_message(moor):
    for path in ("/v1.41/no/such/thing", "/no-such-endpoint"):
        r = moor.api("GET", path)
        assert r.status == 404
        assert r.header("Content-Type").startswith("application/json")
        assert isinstance(r.json()["message"], str) and r.json()["message"]


def test_unknown_container_is_404_naming_it(moor):
    r = moor.api("GET", "/containers/nosuchcontainer/json")
    assert r.status == 404
    assert "nosuchcontainer" in r.json()["message"]
    result = moor.cli("inspect", "--type", "container", "nosuchcontainer")
    assert result.returncode != 0
    assert "nosuchcontainer" in result.stderr


def test_info_reports_settings_and_container_counts(moor):
    running = moor.run_d("busybox", "sleep", "60")
    paused = moor.run_d("busybox", "sleep", "60")
    moor.cli("pause", paused, check=True)
    stopped = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    info = moor.api("GET", "/info").json()
    assert info["Containers"] == 3
    assert info["ContainersRunning"] == 1
    assert info["ContainersPaused"] == 1
    assert info["ContainersStopped"] == 1
    assert info["LiveRestoreEnabled"] is False
    assert info["Driver"] == "overlay2"
    assert info["LoggingDriver"] == "json-file"
    expected_cgroup = "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"
    assert info["CgroupVersion"] == expected_cgroup
    assert info["DockerRootDir"] == moor.daemon.data_root
    assert info["Images"] >= 1
    # the docker CLI reads the same document
    out = moor.cli("info", "--format", "{{.ContainersRunning}} {{.DockerRootDir}}", check=True).stdout.strip()
    assert out == f"1 {moor.daemon.data_root}"
    moor.cli("unpause", paused, check=True)
    moor.cli("rm", "-f", running, paused, stopped, check=True)
