"""Attach (hijacked streams) and logs."""

import re
import subprocess
import time
from datetime import datetime, timezone

import moortest
from moortest import demux, hijack, read_all, wait_until

TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")


# ---------------------------------------------------------------- attach


def test_attach_upgrades_and_multiplexes_without_tty(moor):
    cid = moor.client.api.create_container("busybox", ["sh", "-c", "echo out; echo err >&2"])["Id"]
    sock, status, headers, rest = hijack(moor, f"/containers/{cid}/attach?stream=1&stdout=1&stderr=1")
    try:
        assert status.startswith("HTTP/1.1 101"), status
        assert headers.get("upgrade") == "tcp"
        moor.client.api.start(cid)
        data = read_all(sock, rest)
    finally:
        sock.close()
    assert data[0] in (1, 2), data
    assert demux(data) == (b"out\n", b"err\n")


def test_attach_without_upgrade_header_answers_200_then_stream(moor):
    cid = moor.client.api.create_container("busybox", ["echo", "plain"])["Id"]
    sock = moortest.raw_connect(moor.socket)
    try:
        sock.sendall(f"POST /containers/{cid}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
        status, _, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200"), status
        moor.client.api.start(cid)
        assert demux(read_all(sock, rest))[0] == b"plain\n"
    finally:
        sock.close()


def test_attach_with_tty_is_raw(moor):
    cid = moor.client.api.create_container("busybox", ["echo", "ttyout"], tty=True)["Id"]
    sock, status, _, rest = hijack(moor, f"/containers/{cid}/attach?stream=1&stdout=1&stderr=1")
    try:
        assert status.startswith("HTTP/1.1 101")
        moor.client.api.start(cid)
        data = read_all(sock, rest)
    finally:
        sock.close()
    assert data == b"ttyout\r\n"


def test_attach_stdout_only_filters_stderr(moor):
    cid = moor.client.api.create_container("busybox", ["sh", "-c", "echo out; echo err >&2"])["Id"]
    sock, _, _, rest = hijack(moor, f"/containers/{cid}/attach?stream=1&stdout=1")
    try:
        moor.client.api.start(cid)
        data = read_all(sock, rest)
    finally:
        sock.close()
    assert demux(data) == (b"out\n", b"")


def test_docker_py_attach_socket(moor):
    api = moor.client.api
    cid = api.create_container("busybox", ["sh", "-c", "echo a; echo b >&2"])["Id"]
    sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1})
    try:
        api.start(cid)
        raw = sock._sock if hasattr(sock, "_sock") else sock
        data = read_all(raw)
    finally:
        sock.close()
    assert demux(data) == (b"a\n", b"b\n")


def test_docker_attach_stdin_half_close_keeps_output_until_exit(moor):
    cid = moor.run_d("-i", "busybox", "sh", "-c", "read x; echo got-$x; sleep 1; echo after-eof; exit 3")
    r = moor.cli("attach", cid, input="hello\n", timeout=60)
    assert r.stdout == "got-hello\nafter-eof\n", r.stderr
    assert r.returncode == 3


def test_docker_run_interactive_stdin_eof_keeps_output(moor):
    r = moor.cli("run", "-i", "--rm", "busybox", "sh", "-c", "cat; sleep 1; echo done-after-eof", input="in\n")
    assert r.stdout == "in\ndone-after-eof\n", r.stderr


def test_attach_socket_stdin_half_close(moor):
    api = moor.client.api
    r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["sh", "-c", "cat; echo end"],
                                                     "OpenStdin": True, "StdinOnce": True, "AttachStdin": True})
    cid = r.json()["Id"]
    sock = moortest.raw_connect(moor.socket)
    try:
        sock.sendall(f"POST /containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                     "Host: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n".encode())
        status, _, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 101")
        api.start(cid)
        sock.sendall(b"line1\nline2\n")
        sock.shutdown(1)  # half-close: the container's stdin ends, its output must still come
        data = read_all(sock, rest)
    finally:
        sock.close()
    assert demux(data) == (b"line1\nline2\nend\n", b"")
    assert api.wait(cid, timeout=20)["StatusCode"] == 0


def test_attach_with_stdin_to_container_without_open_stdin_attaches_output_only(moor):
    # dockerd drops stdin=1 when the container was created without OpenStdin
    cid = moor.client.api.create_container("busybox", ["sh", "-c", "sleep 0.5; echo out-only"])["Id"]
    sock, status, _, rest = hijack(moor, f"/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1")
    try:
        assert status.startswith("HTTP/1.1 101"), status
        moor.client.api.start(cid)
        sock.sendall(b"ignored input\n")
        data = read_all(sock, rest)
    finally:
        sock.close()
    assert demux(data) == (b"out-only\n", b"")


def test_attach_to_missing_container_is_404(moor):
    r = moor.api("POST", "/containers/nope/attach?stream=1&stdout=1")
    assert r.status == 404
    assert "nope" in r.json()["message"]


def test_attach_logs_replays_output(moor):
    cid = moor.cli("run", "-d", "busybox", "sh", "-c", "echo earlier; sleep 300", check=True).stdout.strip()
    wait_until(lambda: moor.cli("logs", cid).stdout == "earlier\n", what="the first line")
    sock, status, _, rest = hijack(moor, f"/containers/{cid}/attach?logs=1&stream=0&stdout=1")
    try:
        data = read_all(sock, rest, timeout=10)
    finally:
        sock.close()
    assert demux(data)[0] == b"earlier\n"

# ---------------------------------------------------------------- logs


def exited(moor, script, *args):
    cid = moor.cli("run", "-d", *args, "busybox", "sh", "-c", script, check=True).stdout.strip()
    moor.client.api.wait(cid, timeout=30)
    return cid


def test_logs_are_multiplexed_and_chunked(moor):
    cid = exited(moor, "echo one; echo two >&2; echo three")
    r = moor.api("GET", f"/containers/{cid}/logs?stdout=1&stderr=1")
    assert r.status == 200
    assert demux(r.body) == (b"one\nthree\n", b"two\n")
    r = moor.api("GET", f"/containers/{cid}/logs?stderr=1")
    assert demux(r.body) == (b"", b"two\n")


def test_logs_of_tty_container_are_raw(moor):
    cid = exited(moor, "echo tty-line", "-t")
    r = moor.api("GET", f"/containers/{cid}/logs?stdout=1&stderr=1")
    assert r.body == b"tty-line\r\n"


def test_logs_without_streams_is_400(moor):
    cid = exited(moor, "true")
    assert moor.api("GET", f"/containers/{cid}/logs").status == 400


def test_logs_cli_separates_streams(moor):
    cid = exited(moor, "echo out; echo err >&2")
    r = moor.cli("logs", cid, check=True)
    assert r.stdout == "out\n" and r.stderr == "err\n"


def test_logs_keep_partial_last_line(moor):
    cid = exited(moor, "printf 'no-newline'")
    assert moor.cli("logs", cid).stdout == "no-newline"


def test_logs_timestamps_are_rfc3339_nano_utc(moor):
    before = datetime.now(timezone.utc)
    cid = exited(moor, "echo first; echo second")
    after = datetime.now(timezone.utc)
    lines = moor.cli("logs", "-t", cid, check=True).stdout.splitlines()
    assert [TS.match(line).group(2) for line in lines] == ["first", "second"], lines
    for line in lines:
        stamp = TS.match(line).group(1)
        when = datetime.strptime(stamp[:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert before.timestamp() - 1 <= when.timestamp() <= after.timestamp() + 1, (stamp, before, after)


def test_logs_tail(moor):
    cid = exited(moor, "for i in 1 2 3 4 5; do echo line$i; done")
    assert moor.cli("logs", "--tail", "2", cid).stdout == "line4\nline5\n"
    assert moor.cli("logs", "--tail", "0", cid).stdout == ""
    assert moor.cli("logs", "--tail", "all", cid).stdout.count("\n") == 5
    assert moor.api("GET", f"/containers/{cid}/logs?stdout=1&tail=bogus").status == 400


def test_logs_since_and_until(moor):
    cid = exited(moor, "echo early; sleep 1.5; echo late")
    lines = moor.cli("logs", "-t", cid, check=True).stdout.splitlines()
    stamps = [TS.match(line).group(1) for line in lines]
    t_early = datetime.strptime(stamps[0][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    t_late = datetime.strptime(stamps[1][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    middle = (t_early.timestamp() + t_late.timestamp()) / 2
    assert moor.cli("logs", "--since", f"{middle:.3f}", cid).stdout == "late\n"
    assert moor.cli("logs", "--until", f"{middle:.3f}", cid).stdout == "early\n"
    iso = datetime.fromtimestamp(middle, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert moor.cli("logs", "--since", iso, cid).stdout == "late\n"
    r = moor.api("GET", f"/containers/{cid}/logs?stdout=1&since=yesterday-ish")
    assert r.status == 400


def test_logs_follow_streams_until_the_container_exits(moor):
    cid = moor.run_d("busybox", "sh", "-c", "echo a; sleep 1.5; echo b; sleep 0.5")
    proc = moor.cli_popen("logs", "-f", cid)
    try:
        first = proc.stdout.readline()
        assert first == b"a\n"
        assert proc.poll() is None, "logs -f returned before the container ended"
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out == b"b\n"
    assert proc.returncode == 0


def test_logs_follow_of_exited_container_returns(moor):
    cid = exited(moor, "echo done")
    r = moor.cli("logs", "-f", cid, timeout=20)
    assert r.stdout == "done\n"


def test_logs_follow_with_tail_shows_only_new_lines_after_the_tail(moor):
    cid = moor.run_d("busybox", "sh", "-c", "echo 1; echo 2; echo 3; sleep 1.5; echo 4")
    wait_until(lambda: moor.cli("logs", cid).stdout == "1\n2\n3\n", what="the first lines")
    r = moor.cli("logs", "-f", "--tail", "1", cid, timeout=30)
    assert r.stdout == "3\n4\n"


def test_logs_follow_ends_when_the_client_goes(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    proc = subprocess.Popen(["docker", "logs", "-f", cid], env=moor.env, stdout=subprocess.PIPE)
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    # the daemon still serves normally afterwards
    assert moor.api("GET", "/_ping").status == 200
    assert moor.state(cid)["Status"] == "running"


def test_docker_py_logs_stream(moor):
    cid = moor.run_d("busybox", "sh", "-c", "echo x1; sleep 0.5; echo x2")
    chunks = list(moor.client.api.logs(cid, stream=True, follow=True))
    assert b"".join(chunks) == b"x1\nx2\n"
