"""A restored container is the same container (id, name, pid, state,
limits, labels, log driver, network mode, restart count) and every
command works on it as on a new one: exec, logs (-f), attach, stop, kill,
wait, pause, restart, rm, events."""

import contextlib
import queue
import threading
import time

import moortest
import restoretest
from moortest import wait_until
from restoretest import COUNTER, alive, restore_daemon


def _restart(moor, *ids):
    """SIGKILL moord, let the containers run alone a moment, start it again
    and wait until each running container is managed again."""
    moor.daemon.kill9()
    time.sleep(1)
    moor.daemon.start()
    for cid in ids:
        if moor.state(cid)["Running"] and not moor.state(cid)["Paused"]:
            restoretest.wait_managed(moor, cid)


class LineReader:
    """Collects the output lines of a running `docker` client on a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode(errors="replace"))
        self.lines.put(None)

    def take(self, count, timeout=10):
        out, deadline = [], time.monotonic() + timeout
        while len(out) < count:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"got {len(out)} of {count} lines in {timeout} s: {out}") from None
            if line is None:
                raise AssertionError(f"the client ended after {out}: {self.proc.stderr.read()!r}")
            out.append(line)
        return out

    def stop(self):
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()


def _cgroup(hierarchy, cid, name):
    with open(moortest.cgroup_file(hierarchy, cid, name)) as f:
        return f.read().strip()


def test_restored_container_keeps_identity_state_limits_and_settings():
    # Fails its first run, so RestartCount is 1 when the daemon dies.
    command = "if [ ! -f /ran ]; then touch /ran; exit 1; fi; " + COUNTER
    with restore_daemon(config={"live-restore": True}) as moor:
        cid = moor.run_d("--name", "keep", "--label", "tier=web", "--label", "n=1", "--memory", "64m",
                         "--pids-limit", "50", "--cpu-shares", "512", "--log-driver", "local",
                         "--log-opt", "max-size=1m", "--network", "host", "--restart", "on-failure:3",
                         "busybox", "sh", "-c", command)
        wait_until(lambda: moor.inspect(cid)["RestartCount"] == 1 and moor.state(cid)["Running"],
                   what="the first restart")
        time.sleep(0.5)
        before = restoretest.fingerprint(moor, cid)
        limits = {(h, f): _cgroup(h, cid, f) for h, f in (("memory", "memory.limit_in_bytes"),
                                                            ("pids", "pids.max"), ("cpu", "cpu.shares"))}
        assert limits == {("memory", "memory.limit_in_bytes"): str(64 << 20), ("pids", "pids.max"): "50",
                          ("cpu", "cpu.shares"): "512"}
        _restart(moor, cid)
        after = restoretest.fingerprint(moor, cid)
        assert after == before
        assert {(h, f): _cgroup(h, cid, f) for h, f in limits} == limits
        assert before["Pid"] in restoretest.container_processes(cid)
        assert [c["Id"] for c in moor.client.api.containers(filters={"label": "tier=web"})] == [cid]
        assert [c["Id"] for c in moor.client.api.containers(filters={"name": "keep"})] == [cid]
        # The name stays taken by the restored container.
        clash = moor.cli("run", "-d", "--name", "keep", "busybox", "true")
        assert clash.returncode != 0 and "already in use" in clash.stderr
        # Its log driver still works: lines from before and after the restart.
        moor.cli("stop", cid, check=True)
        lines = moor.cli("logs", cid, check=True).stdout.splitlines()
        numbers = [int(line.split()[0]) for line in lines]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 10


def test_restored_container_works_with_exec_logs_follow_attach_pause_stop_wait_and_events():
    with restore_daemon(config={"live-restore": True}) as moor:
        cid = moor.run_d("busybox", "sh", "-c", COUNTER)
        time.sleep(0.5)
        _restart(moor, cid)
        since = time.time_ns()

        assert moor.cli("exec", cid, "sh", "-c", "echo $((6*7))", check=True).stdout == "42\n"
        follow = LineReader(moor.cli_popen("logs", "-f", "--tail", "0", cid))
        attach = LineReader(moor.cli_popen("attach", "--no-stdin", "--sig-proxy=false", cid))
        try:
            followed = [int(line.split()[0]) for line in follow.take(3)]
            assert followed == list(range(followed[0], followed[0] + 3)), followed
            attached = [int(line.split()[0]) for line in attach.take(3)]
            assert attached == list(range(attached[0], attached[0] + 3)), attached

            moor.cli("pause", cid, check=True)
            assert moor.state(cid)["Status"] == "paused"
            assert _cgroup("freezer", cid, "freezer.state") == "FROZEN"
            time.sleep(0.3)
            count = len(moor.cli("logs", cid, check=True).stdout.splitlines())
            time.sleep(0.7)
            assert len(moor.cli("logs", cid, check=True).stdout.splitlines()) == count, "a paused container wrote"
            moor.cli("unpause", cid, check=True)
            assert moor.state(cid)["Status"] == "running"
            follow.take(2)

            waiter = moor.cli_popen("wait", cid)
            time.sleep(0.3)
            moor.cli("stop", cid, check=True)
            out, err = waiter.communicate(timeout=30)
            assert out.decode().strip() == "0", err
            # Followers end with the container.
            follow.proc.wait(timeout=10)
            attach.proc.wait(timeout=10)
        finally:
            follow.stop()
            attach.stop()
        actions = [(e["Action"], e["Actor"]["Attributes"].get("exitCode"))
                   for e in restoretest.events(moor, since, type="container") if e["Actor"]["ID"] == cid]
        names = [a for a, _ in actions]
        for expected in ("exec_create: sh -c echo $((6*7))", "exec_start: sh -c echo $((6*7))", "pause", "unpause",
                         "kill", "die", "stop"):
            assert expected in names, f"no {expected!r} event in {names}"
        assert ("die", "0") in actions
        assert names.index("kill") < names.index("die") <= names.index("stop")
        moor.cli("rm", cid, check=True)
        assert not restoretest.traces(moor.daemon, cid)


def test_restored_containers_can_be_killed_waited_restarted_started_and_removed():
    with restore_daemon(config={"live-restore": True}) as moor:
        killed = moor.run_d("--log-driver", "local", "busybox", "sh", "-c", "echo hello; exec sleep 1000")
        restarted = moor.run_d("busybox", "sleep", "1000")
        forced = moor.run_d("busybox", "sleep", "1000")
        own_signal = moor.run_d("--stop-signal", "USR1", "--stop-timeout", "30", "busybox", "sh", "-c",
                                "trap 'exit 4' USR1; while :; do sleep 0.1; done")
        old = {cid: moor.state(cid)["Pid"] for cid in (killed, restarted, forced)}
        _restart(moor, killed, restarted, forced, own_signal)

        # Its own stop signal, still known after the restore.
        started = time.monotonic()
        moor.cli("stop", own_signal, check=True)
        assert moor.state(own_signal)["ExitCode"] == 4 and time.monotonic() - started < 10

        waiter = moor.cli_popen("wait", killed)
        time.sleep(0.3)
        moor.cli("kill", killed, check=True)
        out, err = waiter.communicate(timeout=30)
        assert out.decode().strip() == "137", err
        state = moor.state(killed)
        assert state["Status"] == "exited" and state["ExitCode"] == 137 and not alive(old[killed])
        moor.cli("start", killed, check=True)
        restoretest.wait_managed(moor, killed)
        assert moor.cli("logs", killed, check=True).stdout == "hello\nhello\n"

        moor.cli("restart", "-t", "1", restarted, check=True)
        state = moor.state(restarted)
        assert state["Running"] and state["Pid"] != old[restarted] and not alive(old[restarted])
        restoretest.wait_managed(moor, restarted)

        moor.cli("rm", "-f", forced, check=True)
        assert not alive(old[forced])
        assert not restoretest.traces(moor.daemon, forced)
        for cid in (killed, restarted):
            moor.cli("rm", "-f", cid, check=True)
            assert not restoretest.traces(moor.daemon, cid)


def test_paused_container_stays_paused_across_a_restore_and_can_be_unpaused():
    with restore_daemon(config={"live-restore": True}) as moor:
        cid = moor.run_d("busybox", "sh", "-c", COUNTER)
        pid = moor.state(cid)["Pid"]
        time.sleep(0.3)
        moor.cli("pause", cid, check=True)
        moor.daemon.kill9()
        moor.daemon.start()
        wait_until(lambda: moor.state(cid)["Status"] == "paused", what="the paused state after the restore")
        assert moor.state(cid)["Pid"] == pid
        assert _cgroup("freezer", cid, "freezer.state") == "FROZEN"
        moor.cli("unpause", cid, check=True)
        restoretest.wait_managed(moor, cid)
        assert moor.state(cid)["Status"] == "running" and moor.state(cid)["Pid"] == pid
        moor.cli("stop", cid, check=True)
        restoretest.check_counter_log(restoretest.timestamped_lines(moor, cid)[0])
