"""exec: create, start (hijacked), inspect, TTY, stdin, failures."""

import os

import pytest

import moortest
from moortest import demux, wait_until


@pytest.fixture
def box(moor):
    """A running container to exec into."""
    return moor.run_d("busybox", "sleep", "300")


def test_exec_create_start_inspect(moor, box):
    api = moor.client.api
    exec_id = api.exec_create(box, ["sh", "-c", "echo out; echo err >&2; exit 3"])["Id"]
    before = api.exec_inspect(exec_id)
    assert before["Running"] is False and before["ExitCode"] is None
    assert before["ContainerID"] == box
    assert exec_id in moor.inspect(box)["ExecIDs"]
    out = api.exec_start(exec_id, demux=True)
    assert out == (b"out\n", b"err\n")
    after = api.exec_inspect(exec_id)
    assert after["ExitCode"] == 3 and after["Running"] is False
    assert after["Pid"] > 0
    # As dockerd: an ended exec leaves the container's list, not the daemon's.
    assert exec_id not in (moor.inspect(box)["ExecIDs"] or [])


def test_exec_inspect_while_running(moor, box):
    api = moor.client.api
    exec_id = api.exec_create(box, ["sleep", "2"])["Id"]
    api.exec_start(exec_id, detach=True)
    running = api.exec_inspect(exec_id)
    assert running["Running"] is True and running["Pid"] > 0 and running["ExitCode"] is None
    wait_until(lambda: not api.exec_inspect(exec_id)["Running"], timeout=20, what="the exec to end")
    assert api.exec_inspect(exec_id)["ExitCode"] == 0


def test_exec_start_twice_is_409(moor, box):
    api = moor.client.api
    exec_id = api.exec_create(box, ["true"])["Id"]
    api.exec_start(exec_id)
    r = moor.api("POST", f"/exec/{exec_id}/start", body={"Detach": True})
    assert r.status == 409


def test_exec_of_missing_exec_is_404(moor):
    assert moor.api("GET", "/exec/nope/json").status == 404
    assert moor.api("POST", "/exec/nope/start", body={}).status == 404


def test_exec_in_stopped_container_is_409(moor):
    cid = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    r = moor.api("POST", f"/containers/{cid}/exec", body={"Cmd": ["true"]})
    assert r.status == 409
    assert "not running" in r.json()["message"]


def test_exec_cli_exit_code_and_output(moor, box):
    r = moor.cli("exec", box, "sh", "-c", "echo hi; exit 4")
    assert r.returncode == 4
    assert r.stdout == "hi\n"


def test_exec_env_user_workdir(moor, box):
    r = moor.cli("exec", "-e", "A=b c", "-u", "nobody", "-w", "/tmp", box, "sh", "-c", 'echo "$A"; id -u; pwd')
    assert r.stdout.splitlines() == ["b c", "65534", "/tmp"], r.stderr


def test_exec_tty_is_raw(moor, box):
    r = moor.cli("exec", "-t", box, "sh", "-c", "echo hi; test -t 1 && echo tty")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\r\ntty\r\n"


def test_exec_interactive_tty_gets_the_terminal_size(moor, box):
    script = 'until s=$(stty size 2>/dev/null) && [ -n "$s" ] && [ "$s" != "0 0" ]; do sleep 0.05; done; echo $s; exit 5'
    rc, out = moor.in_terminal(f"docker exec -it {box} sh -c '{script}'", cols=101, rows=33)
    assert rc == 5, out
    assert out.replace(b"\r", b"").splitlines() == [b"33 101"]


def test_exec_resize_of_missing_exec_is_404(moor):
    assert moor.api("POST", "/exec/nope/resize?h=10&w=10").status == 404


def test_exec_interactive_stdin(moor, box):
    r = moor.cli("exec", "-i", box, "cat", input="data\nmore\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "data\nmore\n"


def test_exec_stdin_half_close_keeps_output_until_exit(moor, box):
    r = moor.cli("exec", "-i", box, "sh", "-c", "cat; sleep 1; echo after", input="x\n")
    assert r.stdout == "x\nafter\n"


def test_exec_start_hijack_is_multiplexed(moor, box):
    exec_id = moor.client.api.exec_create(box, ["sh", "-c", "echo o; echo e >&2"])["Id"]
    sock = moortest.raw_connect(moor.socket)
    try:
        body = b'{"Detach":false,"Tty":false}'
        sock.sendall(f"POST /exec/{exec_id}/start HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        status, _, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 101"), status
        data = rest
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    assert demux(data) == (b"o\n", b"e\n")


def test_exec_of_missing_binary_is_127(moor, box):
    r = moor.cli("exec", box, "/no/such/bin")
    assert r.returncode == 127, (r.returncode, r.stderr)
    assert "/no/such/bin" in r.stderr
    api = moor.client.api
    exec_id = api.exec_create(box, ["/no/such/bin"])["Id"]
    api.exec_start(exec_id)
    assert api.exec_inspect(exec_id)["ExitCode"] == 127


def test_exec_of_non_executable_file_is_126(moor, box):
    moor.cli("exec", box, "sh", "-c", "echo 'echo x' > /tmp/script && chmod 644 /tmp/script", check=True)
    r = moor.cli("exec", box, "/tmp/script")
    assert r.returncode == 126, (r.returncode, r.stderr)
    api = moor.client.api
    exec_id = api.exec_create(box, ["/tmp/script"])["Id"]
    api.exec_start(exec_id)
    assert api.exec_inspect(exec_id)["ExitCode"] == 126


def test_exec_detached_cli(moor, box):
    moor.cli("exec", "-d", box, "sh", "-c", "echo bg > /tmp/bg", check=True)
    wait_until(lambda: moor.cli("exec", box, "cat", "/tmp/bg").stdout == "bg\n", what="the detached exec")


def test_exec_output_does_not_go_to_container_logs(moor):
    cid = moor.run_d("busybox", "sh", "-c", "echo main; sleep 300")
    moor.cli("exec", cid, "echo", "from-exec", check=True)
    assert moor.cli("logs", cid).stdout == "main\n"


def test_exec_runs_in_container_namespaces_and_cgroup(moor, box):
    hostname = moor.cli("exec", box, "hostname", check=True).stdout.strip()
    assert hostname == box[:12]
    api = moor.client.api
    exec_id = api.exec_create(box, ["sleep", "30"])["Id"]
    api.exec_start(exec_id, detach=True)
    pid = api.exec_inspect(exec_id)["Pid"]
    init = moor.state(box)["Pid"]
    for ns in ("pid", "mnt", "net", "uts", "ipc"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}"), ns
    with open(f"/proc/{pid}/cgroup") as f:
        cgroups = f.read()
    assert f"memory:/moor/{box}" in cgroups, cgroups
    top = api.top(box)
    assert str(pid) in [p[top["Titles"].index("PID")] for p in top["Processes"]]
