"""The native `moor` CLI against a real moord: run (attached, detached,
--rm, stdin, exit codes), logs, exec, ps, stop, kill, rm, images, import,
inspect, version, info. Output and exit codes are compared with what the
docker CLI prints for the same calls.

The binary is taken from MOOR_CLI; the daemon comes from conftest's `moor`
fixture (its `.socket`, and docker-py as `.client` for checks).
"""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

import moortest

MOOR_CLI = os.environ.get("MOOR_CLI", "")

pytestmark = pytest.mark.skipif(not (MOOR_CLI and os.access(MOOR_CLI, os.X_OK)),
                                reason="set MOOR_CLI to the moor binary")

PS_HEADER = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


def run_moor(moor, *args, input=None, timeout=60, host_env="MOOR_HOST", text=True):
    """Runs `moor ARGS` against the fixture's daemon; returns the
    CompletedProcess (text unless told otherwise)."""
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    env.pop("MOOR_HOST", None)
    if host_env:
        env[host_env] = f"unix://{moor.socket}"
    return subprocess.run([MOOR_CLI, *args], input=input, capture_output=True, text=text, env=env,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def columns(header_line):
    """Splits a table header on runs of 2+ spaces."""
    return re.split(r"\s{2,}", header_line.strip())


def test_run_rm_echo_prints_and_leaves_nothing(moor):
    before = moor.container_ids()
    result = ok(run_moor(moor, "run", "--rm", "busybox", "echo", "hi"))
    assert result.stdout == "hi\n"
    assert result.stderr == ""
    moortest.wait_until(lambda: moor.container_ids() == before, what="the --rm container to go")


def test_run_passes_stdout_stderr_and_exit_code(moor):
    result = run_moor(moor, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_run_interactive_copies_stdin_and_half_closes(moor):
    result = ok(run_moor(moor, "run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done", input="line one\nline two\n"))
    assert result.stdout == "line one\nline two\ndone\n"


def test_run_tty_output_is_raw(moor):
    result = ok(run_moor(moor, "run", "--rm", "-t", "busybox", "sh", "-c", "echo out; echo err >&2", text=False))
    # A TTY merges the streams and turns \n into \r\n; nothing is framed.
    assert result.stdout == b"out\r\nerr\r\n"
    assert result.stderr == b""


def pty_session(moor, args, lines, timeout=30):
    """Runs `moor ARGS` on a pseudo-terminal of 33x101, typing each of
    `lines` at the next shell prompt; returns (output bytes, exit code)."""
    env = dict(os.environ, MOOR_HOST=f"unix://{moor.socket}")
    env.pop("DOCKER_HOST", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(MOOR_CLI, [MOOR_CLI, *args], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        out, sent = b"", 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            if sent < len(lines) and out.count(b"/ # ") > sent:
                os.write(fd, lines[sent])
                sent += 1
        else:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        return out, os.waitstatus_to_exitcode(status)
    finally:
        os.close(fd)


def test_run_and_exec_interactive_tty(moor):
    out, code = pty_session(moor, ["run", "--rm", "-it", "busybox", "sh"],
                            [b"stty size\r", b"echo $((6*7))\r", b"exit 5\r"])
    assert code == 5, out
    # Raw mode: our terminal echoes nothing itself, the container's TTY does;
    # its size is ours.
    assert b"\r\n33 101\r\n" in out, out
    assert b"\r\n42\r\n" in out, out
    cid = ok(run_moor(moor, "run", "-d", "busybox", "sleep", "60")).stdout.strip()
    out, code = pty_session(moor, ["exec", "-it", cid, "sh"], [b"sleep 0.2; stty size\r", b"exit 4\r"])
    assert code == 4, out
    assert b"\r\n33 101\r\n" in out, out


def test_run_program_not_found_exits_127(moor):
    result = run_moor(moor, "run", "--rm", "busybox", "/no/such/program")
    assert result.returncode == 127, result
    assert result.stderr.startswith("moor: Error response from daemon: "), result.stderr


def test_run_missing_image_exits_125(moor):
    result = run_moor(moor, "run", "--rm", "no-such-image:1")
    assert result.returncode == 125, result
    assert "Error response from daemon" in result.stderr


def test_run_bad_flag_value_exits_125_without_creating(moor):
    before = moor.container_ids()
    result = run_moor(moor, "run", "--rm", "-m", "12zz", "busybox", "true")
    assert result.returncode == 125
    assert "invalid size: '12zz'" in result.stderr
    assert moor.container_ids() == before


def test_run_flags_reach_the_daemon(moor):
    cid = ok(run_moor(moor, "run", "-d", "--name", "cli-flags", "-m", "32m", "--cpus", "1.5", "--pids-limit", "50",
                      "--restart", "on-failure:3", "-e", "A=1", "-l", "k=v", "-w", "/tmp", "--hostname", "hh",
                      "--stop-signal", "SIGUSR1", "--read-only", "busybox", "sleep", "30")).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
    info = moor.inspect(cid)
    host = info["HostConfig"]
    assert host["Memory"] == 33554432
    assert host["NanoCpus"] == 1500000000
    assert host["PidsLimit"] == 50
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["ReadonlyRootfs"] is True
    assert "A=1" in info["Config"]["Env"]
    assert info["Config"]["Labels"] == {"k": "v"}
    assert info["Config"]["WorkingDir"] == "/tmp"
    assert info["Config"]["Hostname"] == "hh"
    assert info["Config"]["StopSignal"] == "SIGUSR1"
    assert info["Name"] == "/cli-flags"


def test_detached_container_logs_exec_ps_stop_rm(moor):
    run = ok(run_moor(moor, "run", "-d", "--name", "cli-life", "busybox", "sh", "-c",
                      "echo started; echo warn >&2; trap 'exit 0' TERM; while true; do sleep 0.1; done"))
    cid = run.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), run

    logs = moortest.wait_until(lambda: (lambda r: r if "started" in r.stdout and "warn" in r.stderr else None)(
        run_moor(moor, "logs", "cli-life")), what="the container's output in logs")
    assert logs.stdout == "started\n"
    assert logs.stderr == "warn\n"
    assert run_moor(moor, "logs", "--tail", "0", "cli-life").stdout == ""
    stamped = ok(run_moor(moor, "logs", "-t", "cli-life")).stdout
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started\n", stamped), stamped

    assert ok(run_moor(moor, "exec", "cli-life", "echo", "from exec")).stdout == "from exec\n"
    assert run_moor(moor, "exec", "cli-life", "sh", "-c", "exit 7").returncode == 7
    assert ok(run_moor(moor, "exec", "-i", "cli-life", "cat", input="piped\n")).stdout == "piped\n"
    assert ok(run_moor(moor, "exec", "-e", "X=42", "-w", "/etc", "cli-life", "sh", "-c", "echo $X $(pwd)")).stdout == "42 /etc\n"
    assert run_moor(moor, "exec", "cli-life", "/no/such/program").returncode in (126, 127)

    ps = ok(run_moor(moor, "ps")).stdout.splitlines()
    assert columns(ps[0]) == PS_HEADER
    row = next(line for line in ps[1:] if line.endswith("cli-life"))
    assert row.startswith(cid[:12] + " ")
    assert "Up " in row
    assert cid[:12] in ok(run_moor(moor, "ps", "-q")).stdout.split()
    assert cid in ok(run_moor(moor, "ps", "-q", "--no-trunc")).stdout.split()

    assert ok(run_moor(moor, "inspect", "-f", "{{.State.Status}} {{.Name}}", "cli-life")).stdout == "running /cli-life\n"

    assert ok(run_moor(moor, "stop", "-t", "5", "cli-life")).stdout == "cli-life\n"
    assert moor.state(cid)["Status"] == "exited"
    assert cid[:12] not in run_moor(moor, "ps", "-q").stdout
    exited = ok(run_moor(moor, "ps", "-a", "--filter", "status=exited")).stdout
    assert "cli-life" in exited and "Exited (0)" in exited

    assert ok(run_moor(moor, "rm", "cli-life")).stdout == "cli-life\n"
    assert cid not in moor.container_ids()


def test_kill_and_rm_force(moor):
    cid = ok(run_moor(moor, "run", "-d", "busybox", "sleep", "300")).stdout.strip()
    assert ok(run_moor(moor, "kill", "-s", "KILL", cid[:12])).stdout == cid[:12] + "\n"
    moor.wait_state(cid, "exited")
    assert moor.state(cid)["ExitCode"] == 137
    cid2 = ok(run_moor(moor, "run", "-d", "busybox", "sleep", "300")).stdout.strip()
    refused = run_moor(moor, "rm", cid2)
    assert refused.returncode == 1
    assert refused.stderr.startswith("moor: Error response from daemon: ")
    assert ok(run_moor(moor, "rm", "-f", cid, cid2)).stdout == f"{cid}\n{cid2}\n"


def test_errors_for_missing_containers(moor):
    for verb in (["stop"], ["kill"], ["rm"], ["logs"]):
        result = run_moor(moor, *verb, "no-such-container")
        assert result.returncode == 1, (verb, result)
        assert result.stderr.startswith("moor: Error response from daemon: "), (verb, result.stderr)
        assert "no-such-container" in result.stderr
    result = run_moor(moor, "inspect", "no-such-thing")
    assert result.returncode == 1
    assert result.stdout == "[]\n"
    assert "No such object: no-such-thing" in result.stderr


def test_images_lists_busybox_like_docker(moor):
    lines = ok(run_moor(moor, "images")).stdout.splitlines()
    assert columns(lines[0]) == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    row = next(line for line in lines[1:] if line.startswith("busybox "))
    fields = columns(row)
    assert fields[:2] == ["busybox", "latest"]
    assert re.fullmatch(r"[0-9a-f]{12}", fields[2])
    assert re.fullmatch(r"\d+(\.\d+)?[kMG]?B", fields[4])
    docker_ids = set(moor.cli("images", "-q", check=True).stdout.split())
    assert set(ok(run_moor(moor, "images", "-q")).stdout.split()) == docker_ids
    digests = ok(run_moor(moor, "images", "--digests")).stdout.splitlines()
    assert columns(digests[0]) == ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]


def test_import_file_and_stdin(moor):
    imported = ok(run_moor(moor, "import", "-m", "from moor", "-c", "CMD [\"echo\", \"imported\"]",
                           moortest.BUSYBOX_TAR, "cli-import:v1"))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", imported.stdout), imported
    assert ok(run_moor(moor, "run", "--rm", "cli-import:v1")).stdout == "imported\n"
    with open(moortest.BUSYBOX_TAR, "rb") as tar:
        piped = subprocess.run([MOOR_CLI, "-H", f"unix://{moor.socket}", "import", "-", "cli-import:stdin"],
                               stdin=tar, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", piped.stdout), piped
    tags = ok(run_moor(moor, "images")).stdout
    assert re.search(r"^cli-import\s+stdin\s", tags, re.M), tags
    assert re.search(r"^cli-import\s+v1\s", tags, re.M), tags


def test_inspect_container_then_image(moor):
    image = ok(run_moor(moor, "inspect", "busybox:latest")).stdout
    assert image.startswith("[\n    {\n        \"Id\": \"sha256:")
    assert ok(run_moor(moor, "inspect", "--format", "{{json .RepoTags}}", "busybox")).stdout == "[\"busybox:latest\"]\n"


def test_version_and_info(moor):
    version = ok(run_moor(moor, "version")).stdout
    assert version.startswith("Client:\n")
    assert "\nServer: " in version and " Engine:\n" in version
    server_version = ok(run_moor(moor, "version", "--format", "{{.Server.Version}}")).stdout.strip()
    assert server_version == moor.client.version()["Version"]
    info = ok(run_moor(moor, "info")).stdout
    assert "\nServer:\n Containers: " in info
    assert ok(run_moor(moor, "info", "-f", "{{.Images}}")).stdout.strip().isdigit()


def test_host_comes_from_flag_or_docker_host(moor):
    assert ok(run_moor(moor, "-H", f"unix://{moor.socket}", "ps", host_env=None)).stdout.startswith("CONTAINER ID")
    assert ok(run_moor(moor, "ps", host_env="DOCKER_HOST")).stdout.startswith("CONTAINER ID")
    missing = run_moor(moor, "-H", "unix:///nonexistent/moor.sock", "ps", host_env=None)
    assert missing.returncode == 1
    assert "Cannot connect to the moor daemon at unix:///nonexistent/moor.sock" in missing.stderr
