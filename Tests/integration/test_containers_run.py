"""docker run / create / start, and what a container's Config asks for."""

import re
import subprocess

import docker
import pytest


def test_run_attached_prints_output_and_returns_exit_code(moor):
    r = moor.cli("run", "--name", "attached", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3, r.stderr
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr
    state = moor.state("attached")
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 3


def test_run_rm_removes_the_container_and_keeps_exit_code(moor):
    before = moor.container_ids()
    r = moor.cli("run", "--rm", "busybox", "sh", "-c", "echo hi; exit 5")
    assert r.returncode == 5, r.stderr
    assert r.stdout == "hi\n"
    assert moor.container_ids() == before


def test_run_detached_prints_id_and_keeps_running(moor):
    cid = moor.run_d("busybox", "sleep", "60")
    assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
    state = moor.state(cid)
    assert state["Status"] == "running" and state["Running"] is True and state["Pid"] > 0
    moor.cli("kill", cid, check=True)


def test_create_then_start(moor):
    cid = moor.cli("create", "--name", "created1", "busybox", "sh", "-c", "echo started", check=True).stdout.strip()
    assert moor.state(cid)["Status"] == "created"
    assert moor.client.api.containers(all=True, filters={"id": cid})[0]["State"] == "created"
    r = moor.cli("start", "-a", "created1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "started\n"
    assert moor.state(cid)["Status"] == "exited"


def test_docker_py_create_start_wait_logs(moor):
    c = moor.client.containers.create("busybox", ["sh", "-c", "echo via-py; exit 2"])
    assert c.status == "created"
    c.start()
    assert c.wait(timeout=30)["StatusCode"] == 2
    assert c.logs() == b"via-py\n"
    c.reload()
    assert c.status == "exited"


def test_docker_py_run_returns_output(moor):
    out = moor.client.containers.run("busybox", ["echo", "from-run"], remove=True)
    assert out == b"from-run\n"


def test_run_of_missing_image_fails_naming_it(moor):
    r = moor.cli("run", "--rm", "no-such-image:v9", "true")
    assert r.returncode != 0
    assert "no-such-image" in r.stderr


@pytest.mark.parametrize("name", ["bad name", "-leading", "a", "sl/ash", "b@d"])
def test_invalid_container_name_is_400_naming_it(moor, name):
    before = moor.container_ids()
    r = moor.api("POST", "/containers/create?name=" + name.replace(" ", "%20").replace("/", "%2F").replace("@", "%40"),
                 body={"Image": "busybox", "Cmd": ["true"]})
    assert r.status == 400, r
    assert name in r.json()["message"]
    assert moor.container_ids() == before


def test_invalid_container_name_via_cli(moor):
    r = moor.cli("create", "--name", "bad name!", "busybox", "true")
    assert r.returncode != 0
    assert "bad name!" in r.stderr


def test_duplicate_name_is_409(moor):
    moor.cli("create", "--name", "twice", "busybox", "true", check=True)
    r = moor.api("POST", "/containers/create?name=twice", body={"Image": "busybox", "Cmd": ["true"]})
    assert r.status == 409
    assert "twice" in r.json()["message"]
    r = moor.cli("create", "--name", "twice", "busybox", "true")
    assert r.returncode != 0
    assert "already in use" in r.stderr


def test_config_cmd_entrypoint_env_workdir_user_hostname_labels(moor):
    r = moor.cli("run", "--name", "cfg", "--entrypoint", "/bin/sh", "-e", "FOO=bar baz", "-w", "/tmp/work",
                 "-u", "nobody", "-h", "myhost", "-l", "team=moor", "-l", "tier=test",
                 "busybox", "-c", 'echo "$FOO"; pwd; id -u; id -g; hostname; cat /etc/hostname')
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["bar baz", "/tmp/work", "65534", "65534", "myhost", "myhost"]
    c = moor.inspect("cfg")["Config"]
    assert c["Entrypoint"] == ["/bin/sh"]
    assert c["Cmd"][0] == "-c"
    assert "FOO=bar baz" in c["Env"]
    assert c["WorkingDir"] == "/tmp/work"
    assert c["User"] == "nobody"
    assert c["Hostname"] == "myhost"
    assert c["Labels"] == {"team": "moor", "tier": "test"}


def test_default_environment_has_path_and_hostname(moor):
    r = moor.cli("run", "--rm", "busybox", "env")
    env = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert env["PATH"].startswith("/usr/local/sbin:")
    assert re.fullmatch(r"[0-9a-f]{12}", env["HOSTNAME"]), env
    assert "TERM" not in env


def test_user_uid_gid_numeric(moor):
    r = moor.cli("run", "--rm", "-u", "1234:5678", "busybox", "sh", "-c", "id -u; id -g")
    assert r.stdout.split() == ["1234", "5678"], r.stderr


def test_unknown_user_is_refused(moor):
    r = moor.cli("run", "--rm", "-u", "nosuchuser", "busybox", "true")
    assert r.returncode != 0
    assert "nosuchuser" in r.stderr


def stdio_fds(moor, *args):
    r = moor.cli("run", "--rm", *args, "busybox", "sh", "-c", "ls /proc/$$/fd; true")
    assert r.returncode == 0, r.stderr
    return sorted(int(x) for x in r.stdout.split())


def test_container_init_has_only_stdio_file_descriptors(moor):
    assert stdio_fds(moor) == [0, 1, 2]
    assert stdio_fds(moor, "-i") == [0, 1, 2]


def test_container_init_with_tty_has_only_stdio_file_descriptors(moor):
    assert stdio_fds(moor, "-t") == [0, 1, 2]


def test_container_init_starts_with_default_signal_dispositions(moor):
    r = moor.cli("run", "--rm", "busybox", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status")
    values = dict(line.split(":") for line in r.stdout.splitlines())
    assert int(values["SigBlk"], 16) == 0
    assert int(values["SigIgn"], 16) == 0, f"signals ignored from the start: {values['SigIgn'].strip()}"


def test_tty_output_is_raw(moor):
    r = moor.cli("run", "--rm", "-t", "busybox", "sh", "-c", "echo hi; test -t 1 && echo tty")
    assert r.returncode == 0, r.stderr
    # a pty turns \n into \r\n, and no multiplexing header precedes the bytes
    assert r.stdout == "hi\r\ntty\r\n"


# busybox stty fails while the terminal has no size: poll until the resize came
WAIT_FOR_SIZE = 'until s=$(stty size 2>/dev/null) && [ -n "$s" ] && [ "$s" != "0 0" ]; do sleep 0.05; done; echo $s; tty; exit 3'


def test_run_interactive_tty_gets_the_terminal_size_and_exit_code(moor):
    rc, out = moor.in_terminal(f"docker run -it --rm busybox sh -c '{WAIT_FOR_SIZE}'")
    assert rc == 3, out
    lines = out.replace(b"\r", b"").splitlines()
    # the CLI's own resize can lose the race with a container this quick
    # (dockerd's too): it then says so, which is not the container's output
    lines = [line for line in lines if line != b"failed to resize tty, using default size"]
    assert lines == [b"31 97", b"/dev/pts/0"]


def test_run_interactive_tty_passes_keystrokes(moor):
    # typed input reaches the container through the terminal; the echo shows it
    rc, out = moor.in_terminal("docker run -it --rm busybox sh", keys=b"echo typed-$((6*7))\rexit 4\r")
    assert rc == 4, out
    assert b"typed-42" in out


def test_tty_sets_term(moor):
    r = moor.cli("run", "--rm", "-t", "busybox", "sh", "-c", "echo $TERM")
    assert r.stdout == "xterm\r\n"


def test_stdin_is_piped_with_interactive(moor):
    r = moor.cli("run", "-i", "--rm", "busybox", "cat", input="x\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "x\n"


def test_stdin_large_input_passes_through(moor):
    data = "".join(f"line {i}\n" for i in range(20000))
    r = moor.cli("run", "-i", "--rm", "busybox", "wc", "-c", input=data)
    assert r.stdout.strip() == str(len(data)), r.stderr


def test_stdin_via_shell_pipe(moor):
    r = subprocess.run("echo x | docker run -i --rm busybox cat", shell=True, capture_output=True, text=True,
                       env=moor.env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "x\n"


def test_open_stdin_and_stdin_once_are_recorded(moor):
    for once in (False, True):
        r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True,
                                                         "StdinOnce": once, "AttachStdin": True})
        assert r.status == 201, r
        c = moor.inspect(r.json()["Id"])["Config"]
        assert c["OpenStdin"] is True and c["StdinOnce"] is once and c["AttachStdin"] is True
    cid = moor.cli("create", "busybox", "cat", check=True).stdout.strip()
    c = moor.inspect(cid)["Config"]
    assert c["OpenStdin"] is False and c["StdinOnce"] is False


def test_run_of_missing_binary_exits_127(moor):
    r = moor.cli("run", "--name", "nobin", "busybox", "/no/such/binary")
    assert r.returncode == 127, (r.returncode, r.stderr)
    assert "/no/such/binary" in r.stderr
    assert moor.state("nobin")["ExitCode"] == 127


def test_run_of_non_executable_file_exits_126(moor):
    r = moor.cli("run", "--rm", "busybox", "/etc/passwd")
    assert r.returncode == 126, (r.returncode, r.stderr)
    assert "/etc/passwd" in r.stderr


def test_start_of_missing_binary_is_400_via_api(moor):
    c = moor.client.api.create_container("busybox", ["/no/such/binary"])
    with pytest.raises(docker.errors.APIError) as info:
        moor.client.api.start(c["Id"])
    assert info.value.status_code == 400
    assert "/no/such/binary" in str(info.value)
