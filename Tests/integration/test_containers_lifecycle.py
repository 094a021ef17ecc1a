"""Restart policies, log drivers, networking, auto-remove, stop/kill/
restart/pause and wait."""

import json
import os
import time

import pytest
import requests

import moortest
from moortest import wait_until

# ---------------------------------------------------------------- restart policy


def settled(moor, ref, count, timeout=30):
    """Waits for the container to be exited with RestartCount `count`."""
    def done():
        s = moor.inspect(ref)
        return s["State"]["Status"] == "exited" and s["RestartCount"] == count
    wait_until(done, timeout=timeout, what=f"{ref} exited after {count} restarts")


def test_restart_on_failure_2_restarts_twice(moor):
    cid = moor.run_d("--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 1")
    settled(moor, cid, 2)
    time.sleep(1.5)  # no third run comes later
    info = moor.inspect(cid)
    assert info["RestartCount"] == 2
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 1
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert moor.cli("logs", cid).stdout == "run\n" * 3


def test_restart_on_failure_does_not_restart_a_success(moor):
    cid = moor.run_d("--restart", "on-failure", "busybox", "true")
    moor.wait_state(cid, "exited")
    time.sleep(1)
    assert moor.inspect(cid)["RestartCount"] == 0
    assert moor.state(cid)["Status"] == "exited"


def test_restart_always_restarts_and_docker_stop_is_not_undone(moor):
    cid = moor.run_d("--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
    wait_until(lambda: moor.inspect(cid)["RestartCount"] >= 2, timeout=30, what="two restarts")
    moor.cli("stop", "-t", "1", cid, check=True)
    state = moor.state(cid)
    assert state["Status"] == "exited" and not state["Restarting"]
    count = moor.inspect(cid)["RestartCount"]
    time.sleep(2)
    after = moor.inspect(cid)
    assert after["State"]["Status"] == "exited"
    assert after["RestartCount"] == count


def test_restart_always_stop_of_long_running_container_is_not_undone(moor):
    cid = moor.run_d("--restart", "always", "busybox", "sleep", "300")
    moor.cli("stop", "-t", "1", cid, check=True)
    time.sleep(1.5)
    assert moor.state(cid)["Status"] == "exited"
    assert moor.inspect(cid)["RestartCount"] == 0


def test_invalid_restart_policy_is_refused(moor):
    r = moor.api("POST", "/containers/create", body={
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}})
    assert r.status == 400
    assert "sometimes" in r.json()["message"]


def test_auto_remove_with_restart_policy_is_refused(moor):
    # the docker CLI refuses --rm with --restart itself: ask the API
    r = moor.api("POST", "/containers/create", body={
        "Image": "busybox", "Cmd": ["true"],
        "HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}})
    assert r.status == 400
    assert "AutoRemove" in r.json()["message"] and "restart policy" in r.json()["message"]


def test_restart_policy_retry_count_only_with_on_failure(moor):
    r = moor.api("POST", "/containers/create", body={
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}}})
    assert r.status == 400
    assert "MaximumRetryCount" in r.json()["message"] or "maximum retry count" in r.json()["message"].lower()
    r = moor.api("POST", "/containers/create", body={
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": {"Name": "on-failure",
                                                                               "MaximumRetryCount": -1}}})
    assert r.status == 400

# ---------------------------------------------------------------- log drivers


def test_log_driver_local_keeps_logs(moor):
    r = moor.cli("run", "--name", "loc", "--log-driver", "local", "busybox", "sh", "-c", "echo one; echo two >&2")
    assert r.returncode == 0, r.stderr
    assert moor.inspect("loc")["HostConfig"]["LogConfig"]["Type"] == "local"
    logs = moor.cli("logs", "loc")
    assert logs.stdout == "one\n" and logs.stderr == "two\n"


def test_log_driver_json_file_default_has_log_path(moor):
    moor.cli("run", "--name", "jf", "busybox", "echo", "hello", check=True)
    info = moor.inspect("jf")
    assert info["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert info["LogPath"].endswith("-json.log")
    with open(info["LogPath"]) as f:
        line = json.loads(f.readline())
    assert line["log"] == "hello\n" and line["stream"] == "stdout" and line["time"].endswith("Z")


def test_log_driver_none_logs_are_refused_as_docker_words_it(moor):
    r = moor.cli("run", "--name", "nolog", "--log-driver", "none", "busybox", "echo", "hidden")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hidden\n", "an attached run still shows the output"
    logs = moor.cli("logs", "nolog")
    assert logs.returncode != 0
    assert "configured logging driver does not support reading" in logs.stderr
    raw = moor.api("GET", "/containers/nolog/logs?stdout=1")
    assert raw.status == 501
    assert raw.json()["message"] == "configured logging driver does not support reading"


def test_unknown_log_driver_is_400_naming_it(moor):
    r = moor.api("POST", "/containers/create", body={
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"LogConfig": {"Type": "nosuchdriver", "Config": {}}}})
    assert r.status == 400
    assert "nosuchdriver" in r.json()["message"]


def test_unknown_log_option_is_400_naming_it(moor):
    for driver in ("json-file", "local", "none"):
        r = moor.api("POST", "/containers/create", body={
            "Image": "busybox", "Cmd": ["true"],
            "HostConfig": {"LogConfig": {"Type": driver, "Config": {"no-such-opt": "1"}}}})
        assert r.status == 400, (driver, r)
        assert "no-such-opt" in r.json()["message"], driver
    r = moor.cli("create", "--log-opt", "max-size=bogus", "busybox", "true")
    assert r.returncode != 0
    assert "max-size" in r.stderr

# ---------------------------------------------------------------- network


def links(output):
    return [line.split(":")[1].strip().split("@")[0] for line in output.splitlines() if line.strip()]


def test_network_none_has_only_loopback_up(moor):
    r = moor.cli("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
    assert r.returncode == 0, r.stderr
    assert links(r.stdout) == ["lo"]
    assert ",UP" in r.stdout
    r = moor.cli("run", "--rm", "--network", "none", "busybox", "ping", "-c", "1", "-W", "2", "127.0.0.1")
    assert r.returncode == 0, r.stdout + r.stderr


def test_network_default_is_none(moor):
    r = moor.cli("run", "--name", "netdef", "busybox", "ip", "-o", "link")
    assert links(r.stdout) == ["lo"]
    assert moor.inspect("netdef")["HostConfig"]["NetworkMode"] == "none"


def test_network_host_sees_host_interfaces(moor):
    r = moor.cli("run", "--rm", "--network", "host", "busybox", "ip", "-o", "link")
    assert r.returncode == 0, r.stderr
    assert sorted(links(r.stdout)) == sorted(os.listdir("/sys/class/net"))


def test_network_host_shares_the_host_network_namespace(moor):
    cid = moor.run_d("--network", "host", "busybox", "sleep", "300")
    pid = moor.state(cid)["Pid"]
    assert os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")


def test_network_host_uses_the_host_hostname(moor):
    r = moor.cli("run", "--rm", "--network", "host", "busybox", "hostname")
    assert r.stdout.strip() == os.uname().nodename


def test_network_none_has_its_own_namespace(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    pid = moor.state(cid)["Pid"]
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")


def test_network_bridge_is_refused_with_a_clear_message(moor):
    r = moor.cli("create", "--network", "no-such-net", "busybox", "true")
    assert r.returncode != 0
    assert "no-such-net" in r.stderr

# ---------------------------------------------------------------- auto-remove


def test_auto_remove_via_api(moor):
    c = moor.client.api.create_container("busybox", ["true"], host_config=moor.client.api.create_host_config(
        auto_remove=True))
    assert moor.inspect(c["Id"])["HostConfig"]["AutoRemove"] is True
    moor.client.api.start(c["Id"])
    wait_until(lambda: c["Id"] not in moor.container_ids(), what="the auto-removed container to go")


def test_wait_removed_returns_when_auto_removed(moor):
    c = moor.client.api.create_container("busybox", ["sh", "-c", "exit 6"],
                                         host_config=moor.client.api.create_host_config(auto_remove=True))
    sock = moortest.raw_connect(moor.socket)
    try:
        sock.sendall(f"POST /containers/{c['Id']}/wait?condition=removed HTTP/1.1\r\nHost: d\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
        status, headers, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200"), status
        moor.client.api.start(c["Id"])
        body = read_json_body(sock, headers, rest)
        assert body["StatusCode"] == 6
    finally:
        sock.close()
    assert c["Id"] not in moor.container_ids()

# ---------------------------------------------------------------- stop / kill / signals


TRAP = 'trap "echo got-{sig}; exit {code}" {sig}; echo ready; while true; do sleep 0.1; done'


def trap_container(moor, sig, code, *args):
    cid = moor.run_d(*args, "busybox", "sh", "-c", TRAP.format(sig=sig, code=code))
    wait_until(lambda: "ready" in moor.cli("logs", cid).stdout, what="the trap to be set")
    return cid


def test_stop_sends_stop_signal(moor):
    cid = trap_container(moor, "USR1", 7, "--stop-signal", "USR1")
    assert moor.inspect(cid)["Config"]["StopSignal"] == "USR1"
    moor.cli("stop", cid, check=True)
    state = moor.state(cid)
    assert state["Status"] == "exited" and state["ExitCode"] == 7
    assert "got-USR1" in moor.cli("logs", cid).stdout


def test_stop_sends_sigterm_by_default(moor):
    cid = trap_container(moor, "TERM", 8)
    moor.cli("stop", cid, check=True)
    assert moor.state(cid)["ExitCode"] == 8


def test_stop_timeout_kills_after_t_seconds(moor):
    cid = moor.run_d("busybox", "sh", "-c", 'trap "" TERM; while true; do sleep 0.1; done')
    start = time.monotonic()
    moor.cli("stop", "-t", "1", cid, check=True)
    took = time.monotonic() - start
    assert 0.9 <= took < 8, took
    assert moor.state(cid)["ExitCode"] == 137


def test_stop_timeout_from_create(moor):
    cid = moor.run_d("--stop-timeout", "1", "busybox", "sh", "-c", 'trap "" TERM; while true; do sleep 0.1; done')
    assert moor.inspect(cid)["Config"]["StopTimeout"] == 1
    start = time.monotonic()
    moor.cli("stop", cid, check=True)
    assert time.monotonic() - start < 8
    assert moor.state(cid)["ExitCode"] == 137


def test_stop_of_a_stopped_container_is_304(moor):
    cid = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    assert moor.api("POST", f"/containers/{cid}/stop").status == 304


def test_kill_default_is_sigkill(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    moor.cli("kill", cid, check=True)
    moor.wait_state(cid, "exited")
    assert moor.state(cid)["ExitCode"] == 137


def test_kill_with_signal(moor):
    cid = trap_container(moor, "USR2", 9)
    moor.cli("kill", "-s", "USR2", cid, check=True)
    moor.wait_state(cid, "exited")
    assert moor.state(cid)["ExitCode"] == 9
    assert "got-USR2" in moor.cli("logs", cid).stdout


def test_kill_with_bad_signal_is_400(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    r = moor.api("POST", f"/containers/{cid}/kill?signal=SIGNOPE")
    assert r.status == 400
    assert "SIGNOPE" in r.json()["message"]


def test_kill_of_a_stopped_container_is_409(moor):
    cid = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    r = moor.api("POST", f"/containers/{cid}/kill")
    assert r.status == 409
    assert "not running" in r.json()["message"]


def test_restart_runs_the_container_again(moor):
    cid = moor.run_d("busybox", "sh", "-c", "echo run; sleep 300")
    first = moor.state(cid)
    moor.cli("restart", "-t", "1", cid, check=True)
    second = moor.state(cid)
    assert second["Status"] == "running"
    assert second["Pid"] != first["Pid"]
    assert second["StartedAt"] > first["StartedAt"]
    wait_until(lambda: moor.cli("logs", cid).stdout == "run\nrun\n", what="the second run's output")


def test_start_attach_of_exited_container_shows_the_new_run(moor):
    cid = moor.cli("create", "busybox", "echo", "again", check=True).stdout.strip()
    moor.cli("start", "-a", cid, check=True)
    r = moor.cli("start", "-a", cid, check=True)
    assert r.stdout == "again\n"


def test_restart_returns_after_the_old_shim_is_gone(moor):
    # the old shim removes its cgroups as it exits: the next run's shim must
    # not be started on the same cgroup paths before that
    cid = moor.run_d("busybox", "sleep", "300")
    for _ in range(3):
        old_shim = moor.inspect(cid)["Moor"]["ShimPid"]
        assert old_shim > 0
        moor.cli("restart", "-t", "0", cid, check=True)
        assert not moortest.alive(old_shim), f"the old shim {old_shim} still runs"
        assert moor.inspect(cid)["Moor"]["ShimPid"] != old_shim


def test_exit_is_reported_without_waiting_for_the_shim_to_be_reaped():
    # orphaned shims go to a subreaper that leaves them as zombies
    with moortest.running_daemon(wrapper=moortest.LAZY_REAPER) as moor:
        for command in (["run", "--rm", "busybox", "true"], ["run", "--name", "again", "busybox", "true"],
                        ["start", "-a", "again"]):
            started = time.monotonic()
            r = moor.cli(*command, timeout=60)
            took = time.monotonic() - started
            assert r.returncode == 0, r.stderr
            assert took < 5, f"docker {' '.join(command)} took {took:.1f}s"


def test_many_restarts_all_succeed(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    for attempt in range(20):
        r = moor.cli("restart", "-t", "0", cid)
        assert r.returncode == 0, f"restart {attempt + 1} failed: {r.stderr}"
    assert moor.state(cid)["Status"] == "running"


def test_start_of_exited_container_runs_it_again(moor):
    cid = moor.cli("create", "busybox", "echo", "again", check=True).stdout.strip()
    for runs in (1, 2, 3):
        moor.cli("start", cid, check=True)
        moor.client.api.wait(cid, timeout=20)
        wait_until(lambda: moor.cli("logs", cid).stdout == "again\n" * runs, what=f"run {runs}'s output")


def test_attach_after_restart_shows_the_new_run(moor):
    cid = moor.run_d("-i", "busybox", "sh", "-c", "read x; echo got-$x")
    assert moor.cli("attach", cid, input="first\n", timeout=30).stdout == "got-first\n"
    moor.client.api.wait(cid, timeout=20)
    moor.cli("start", cid, check=True)
    r = moor.cli("attach", cid, input="second\n", timeout=8)
    assert r.stdout == "got-second\n"


def test_start_of_running_container_is_304(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    assert moor.api("POST", f"/containers/{cid}/start").status == 304


def test_pause_stops_progress_and_unpause_resumes(moor, tmp_path):
    cid = moor.run_d("-v", f"{tmp_path}:/data", "busybox", "sh", "-c",
                     "i=0; while true; do i=$((i+1)); echo $i > /data/n.tmp; mv /data/n.tmp /data/n; sleep 0.05; done")
    counter = tmp_path / "n"

    def value():
        try:
            return int(counter.read_text())
        except (OSError, ValueError):
            return 0
    wait_until(lambda: value() > 2, what="the counter to run")
    moor.cli("pause", cid, check=True)
    state = moor.state(cid)
    assert state["Status"] == "paused" and state["Paused"] is True and state["Running"] is True
    frozen = value()
    time.sleep(1)
    assert value() == frozen, "a paused container kept counting"
    assert moor.client.api.containers(filters={"status": "paused"})[0]["Id"] == cid
    r = moor.api("POST", f"/containers/{cid}/pause")
    assert r.status == 409
    moor.cli("unpause", cid, check=True)
    assert moor.state(cid)["Status"] == "running"
    wait_until(lambda: value() > frozen + 2, what="the counter to resume")
    r = moor.api("POST", f"/containers/{cid}/unpause")
    assert r.status == 409


def test_exec_into_a_paused_container_is_409(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    moor.cli("pause", cid, check=True)
    r = moor.cli("exec", cid, "true")
    assert r.returncode != 0
    assert "paused" in r.stderr
    moor.cli("unpause", cid, check=True)


def test_stop_of_a_paused_container_stops_it(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    moor.cli("pause", cid, check=True)
    moor.cli("stop", "-t", "1", cid, check=True)
    assert moor.state(cid)["Status"] == "exited"

# ---------------------------------------------------------------- wait


def read_json_body(sock, headers, rest=b""):
    return json.loads(moortest.read_body(sock, headers, rest))


def post_wait(moor, cid, condition):
    sock = moortest.raw_connect(moor.socket)
    query = f"?condition={condition}" if condition else ""
    sock.sendall(f"POST /v1.41/containers/{cid}/wait{query} HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n".encode())
    return sock


def test_wait_next_exit_sends_headers_before_the_container_exits(moor):
    cid = moor.cli("create", "busybox", "sh", "-c", "sleep 1; exit 4", check=True).stdout.strip()
    sock = post_wait(moor, cid, "next-exit")
    try:
        status, headers, rest = moortest.read_head(sock)  # arrives while the container has not even started
        assert status.startswith("HTTP/1.1 200"), status
        assert moor.state(cid)["Status"] == "created"
        moor.client.api.start(cid)
        assert moor.state(cid)["Status"] == "running"
        assert read_json_body(sock, headers, rest) == {"StatusCode": 4, "Error": None}
    finally:
        sock.close()


def test_wait_not_running_on_exited_container_returns_at_once(moor):
    moor.cli("run", "--name", "w1", "busybox", "sh", "-c", "exit 3")
    assert moor.client.api.wait("w1", timeout=10)["StatusCode"] == 3
    r = moor.api("POST", "/containers/w1/wait?condition=not-running", timeout=10)
    assert r.status == 200 and r.json()["StatusCode"] == 3


def test_wait_not_running_blocks_until_exit(moor):
    cid = moor.run_d("busybox", "sh", "-c", "sleep 1; exit 5")
    sock = post_wait(moor, cid, "not-running")
    try:
        status, headers, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200")
        assert read_json_body(sock, headers, rest)["StatusCode"] == 5
        assert moor.state(cid)["Status"] == "exited"
    finally:
        sock.close()


def test_wait_next_exit_on_exited_container_waits_for_the_next_run(moor):
    cid = moor.cli("create", "busybox", "sh", "-c", "exit 2", check=True).stdout.strip()
    moor.cli("start", "-a", cid)
    sock = post_wait(moor, cid, "next-exit")
    try:
        status, headers, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200")
        assert rest == b"", f"answered before the next run: {rest!r}"
        sock.settimeout(1)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        moor.client.api.start(cid)
        assert read_json_body(sock, headers, rest)["StatusCode"] == 2
    finally:
        sock.close()


def test_wait_removed(moor):
    cid = moor.run_d("busybox", "sh", "-c", "exit 1")
    moor.wait_state(cid, "exited")
    sock = post_wait(moor, cid, "removed")
    try:
        status, headers, rest = moortest.read_head(sock)
        assert status.startswith("HTTP/1.1 200")
        moor.cli("rm", cid, check=True)
        assert read_json_body(sock, headers, rest)["StatusCode"] == 1
    finally:
        sock.close()


def test_wait_with_bad_condition_is_400(moor):
    cid = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    r = moor.api("POST", f"/containers/{cid}/wait?condition=whenever")
    assert r.status == 400
    assert "whenever" in r.json()["message"]


def test_cli_wait_prints_exit_code(moor):
    cid = moor.run_d("busybox", "sh", "-c", "sleep 0.5; exit 12")
    r = moor.cli("wait", cid, check=True)
    assert r.stdout.strip() == "12"


def test_docker_py_wait_with_timeout(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    with pytest.raises(requests.exceptions.RequestException):
        moor.client.api.wait(cid, timeout=1)
    moor.cli("kill", cid, check=True)
    assert moor.client.api.wait(cid, timeout=20)["StatusCode"] == 137

