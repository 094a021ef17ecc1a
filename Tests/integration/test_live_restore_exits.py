"""Containers that end while no daemon runs: their real exit code, OOM flag
and finish time after the restore, and their restart policy applied then;
restart policies across a downtime and across a daemon start that finds no
shim at all (a host reboot)."""

import os
import signal
import time

import restoretest
from moortest import wait_until
from restoretest import alive, parse_docker_time, restore_daemon

# Runs once for `first` seconds and exits 3; when restarted (the marker in
# its own upper layer survives), it stays up.
ONCE = "if [ -f /ran ]; then exec sleep 1000; fi; touch /ran; echo first; sleep {first}; exit {code}"


def _wait_restarted(moor, cid, since_ns, timeout=20):
    """Waits until the container runs again, started after `since_ns`."""
    def started_again():
        state = moor.state(cid)
        return state["Running"] and (parse_docker_time(state["StartedAt"]) or 0) >= since_ns
    wait_until(started_again, timeout=timeout, what=f"{cid[:12]} to be started again")


def test_exit_during_downtime_shows_real_code_oom_flag_and_finish_time():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        coded = moor.run_d("busybox", "sh", "-c", "echo before; sleep 1.5; echo after; exit 7")
        oom = moor.run_d("--memory", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                         "sleep 1.5; exec tail /dev/zero")
        killed = moor.run_d("busybox", "sh", "-c", "echo $$; exec sleep 1000")
        killed_pid = moor.state(killed)["Pid"]
        waiter = moor.cli_popen("wait", coded)
        daemon.kill9()
        waiter.communicate(timeout=10)  # its client lost the daemon
        time.sleep(2)
        kill_ns = time.time_ns()
        os.kill(killed_pid, signal.SIGKILL)
        wait_until(lambda: not alive(killed_pid), what="the killed container to end")
        time.sleep(1.5)
        restart_ns = time.time_ns()
        daemon.start_restored()

        state = moor.state(coded)
        assert state["Status"] == "exited" and state["ExitCode"] == 7 and not state["OOMKilled"], state
        started, finished = parse_docker_time(state["StartedAt"]), parse_docker_time(state["FinishedAt"])
        assert finished - started >= 1.4e9, state
        assert finished < restart_ns - 1e9, "the finish time is the restore's time, not the exit's"
        assert moor.cli("logs", coded, check=True).stdout == "before\nafter\n"
        assert moor.cli("wait", coded, check=True, timeout=10).stdout.strip() == "7"

        state = moor.state(oom)
        assert state["Status"] == "exited" and state["OOMKilled"] and state["ExitCode"] == 137, state
        assert parse_docker_time(state["FinishedAt"]) < restart_ns - 0.5e9

        state = moor.state(killed)
        assert state["Status"] == "exited" and state["ExitCode"] == 137 and not state["OOMKilled"], state
        assert abs(parse_docker_time(state["FinishedAt"]) - kill_ns) < 0.5e9, (state, kill_ns)
        # Every exit is told, as a die event with its code, once the
        # daemon is back.
        def dies():
            return {e["Actor"]["ID"]: e["Actor"]["Attributes"].get("exitCode")
                    for e in restoretest.events(moor, restart_ns, type="container", event="die")}
        wait_until(lambda: len(dies()) == 3, timeout=15, what="a die event for each container")
        assert dies() == {coded: "7", oom: "137", killed: "137"}
        for cid in (coded, oom, killed):
            moor.cli("rm", cid, check=True)
            assert not restoretest.traces(daemon, cid)


def test_restart_policies_are_applied_to_exits_during_downtime():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        # Stopped by the user before the downtime.
        user_unless = moor.run_d("--restart", "unless-stopped", "busybox", "sleep", "1000")
        user_always = moor.run_d("--restart", "always", "busybox", "sleep", "1000")
        for cid in (user_unless, user_always):
            moor.cli("stop", "-t", "0", cid, check=True)
        fails = ONCE.format(first=2.5, code=3)
        succeeds = ONCE.format(first=2.5, code=0)
        runs = {
            "no": moor.run_d("--restart", "no", "busybox", "sh", "-c", fails),
            "always": moor.run_d("--restart", "always", "busybox", "sh", "-c", succeeds),
            "unless-stopped": moor.run_d("--restart", "unless-stopped", "busybox", "sh", "-c", fails),
            "on-failure": moor.run_d("--restart", "on-failure", "busybox", "sh", "-c", fails),
            "on-failure:1": moor.run_d("--restart", "on-failure:1", "busybox", "sh", "-c", fails),
            "on-failure, exit 0": moor.run_d("--restart", "on-failure", "busybox", "sh", "-c", succeeds),
        }
        first_pids = {name: moor.state(cid)["Pid"] for name, cid in runs.items()}
        assert all(first_pids.values()), f"a first run ended before the downtime: {first_pids}"
        daemon.kill9()
        wait_until(lambda: not any(alive(pid) for pid in first_pids.values()), timeout=10,
                   what="every first run to end during the downtime")
        time.sleep(0.5)
        restart_ns = time.time_ns()
        daemon.start_restored()

        for name in ("always", "unless-stopped", "on-failure", "on-failure:1"):
            _wait_restarted(moor, runs[name], restart_ns)
            assert moor.state(runs[name])["Pid"] != first_pids[name], name
            assert moor.cli("logs", runs[name], check=True).stdout == "first\n", name
        # dockerd restarts at start-up with the count reset, and Docker's
        # own restart policy (not the user) started these.
        for name in ("no", "on-failure, exit 0"):
            state = moor.state(runs[name])
            assert state["Status"] == "exited", (name, state)
        assert moor.state(runs["no"])["ExitCode"] == 3
        assert moor.state(runs["on-failure, exit 0"])["ExitCode"] == 0
        # Docker: `always` comes back at daemon start even after a user's
        # stop; `unless-stopped` does not.
        _wait_restarted(moor, user_always, restart_ns)
        time.sleep(1)
        assert moor.state(user_unless)["Status"] == "exited"
        assert moor.state(runs["no"])["Status"] == "exited"
        for cid in [*runs.values(), user_always]:
            if moor.state(cid)["Running"]:
                restoretest.wait_managed(moor, cid)


def test_restart_policies_after_a_host_reboot():
    """No shim survived (moord SIGKILLed, then every shim and container
    process killed and their cgroups and the exec-root removed): the store
    alone says what ran."""
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        runs = {name: moor.run_d("--restart", name, "busybox", "sleep", "1000")
                for name in ("no", "always", "unless-stopped", "on-failure")}
        user_unless = moor.run_d("--restart", "unless-stopped", "busybox", "sleep", "1000")
        user_always = moor.run_d("--restart", "always", "busybox", "sleep", "1000")
        for cid in (user_unless, user_always):
            moor.cli("stop", "-t", "0", cid, check=True)
        ids = [*runs.values(), user_unless, user_always]
        old_pids = {cid: moor.state(cid)["Pid"] for cid in runs.values()}
        daemon.kill9()
        restoretest.simulate_host_reboot(daemon, ids)
        restart_ns = time.time_ns()
        daemon.start_restored()

        for name in ("always", "unless-stopped", "on-failure"):
            _wait_restarted(moor, runs[name], restart_ns)
            assert moor.state(runs[name])["Pid"] != old_pids[runs[name]]
            restoretest.wait_managed(moor, runs[name])
        _wait_restarted(moor, user_always, restart_ns)
        # The lost container's exit is Docker's 255.
        state = moor.state(runs["no"])
        assert state["Status"] == "exited" and state["ExitCode"] == 255, state
        time.sleep(1)
        assert moor.state(user_unless)["Status"] == "exited"
        assert moor.state(runs["no"])["Status"] == "exited"
        # Nothing of the lost runs is left behind, and everything can go.
        for cid in ids:
            moor.cli("rm", "-f", cid, check=True)
            assert not restoretest.traces(daemon, cid), cid


def test_auto_remove_container_that_exited_during_downtime_is_removed_on_restore():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("--rm", "busybox", "sh", "-c", "sleep 1; exit 2")
        pid = moor.state(cid)["Pid"]
        daemon.kill9()
        wait_until(lambda: not alive(pid), timeout=10, what="the container to exit")
        daemon.start_restored()
        wait_until(lambda: cid not in {c["Id"] for c in moor.client.api.containers(all=True)}, timeout=15,
                   what="the --rm container to be removed")
        wait_until(lambda: not restoretest.traces(daemon, cid), timeout=5, what="its traces to go")


def test_crash_looping_container_keeps_restarting_with_backoff_after_a_restore():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("--restart", "always", "busybox", "sh", "-c", "exit 1")
        wait_until(lambda: moor.inspect(cid)["RestartCount"] >= 2, timeout=30, what="two restarts")
        daemon.kill9()
        time.sleep(1)
        restart_ns = time.time_ns()
        daemon.start_restored()

        def cycles():
            found = [(e["Action"], e["timeNano"]) for e in restoretest.events(moor, restart_ns, type="container")
                     if e["Actor"]["ID"] == cid and e["Action"] in ("start", "die")]
            return found if sum(1 for a, _ in found if a == "start") >= 5 else None
        events = wait_until(cycles, timeout=40, interval=0.2, what="five starts after the restore")
        starts = [t for a, t in events if a == "start"]
        # dockerd starts it at once at daemon start, with the backoff reset...
        assert starts[0] - restart_ns < 3e9, (starts[0] - restart_ns) / 1e9
        # ...then waits 100 ms, 200 ms, 400 ms, 800 ms after each exit.
        delays = []
        for index, (action, when) in enumerate(events):
            if action == "start" and index > 0 and events[index - 1][0] == "die":
                delays.append((when - events[index - 1][1]) / 1e9)
        assert len(delays) >= 4, events
        for expected, delay in zip((0.1, 0.2, 0.4, 0.8), delays):
            assert expected - 0.02 <= delay <= expected + 0.6, f"delays {delays} are not Docker's backoff"
        moor.cli("stop", "-t", "1", cid, check=True)
        count = moor.inspect(cid)["RestartCount"]
        time.sleep(2)
        assert moor.state(cid)["Status"] == "exited" and moor.inspect(cid)["RestartCount"] == count
