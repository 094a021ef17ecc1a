"""Live restore: running containers, execs and shims outlive every kind of
daemon stop (SIGKILL, SIGTERM with live restore on, binary replacement),
and a restarted moord takes them back at once; without live restore a
SIGTERM stops every container in parallel and records its exit."""

import contextlib
import os
import signal
import time


import restoretest
from moortest import wait_until
from restoretest import COUNTER, INTERVAL, alive, check_counter_log, restore_daemon

DOWNTIME = 2.0


def _pids(moor, ids):
    return {cid: moor.state(cid)["Pid"] for cid in ids}


def _check_untouched(daemon, pids, shims, when):
    """Every container process and every shim still runs (same pids)."""
    for cid, pid in pids.items():
        assert alive(pid), f"{when}: the process {pid} of container {cid[:12]} died"
    for cid, pid in shims.items():
        assert alive(pid), f"{when}: the shim {pid} of container {cid[:12]} died"


def test_running_containers_survive_sigkill_sigterm_and_binary_replacement():
    with restore_daemon(config={"live-restore": True}, copy_binary=True) as moor:
        daemon = moor.daemon
        ids = [moor.run_d("--name", f"counter{n}", "busybox", "sh", "-c", COUNTER) for n in range(3)]
        pids = _pids(moor, ids)
        starts = {cid: restoretest.process_start_time(pid) for cid, pid in pids.items()}
        shims = {cid: restoretest.shim_pid_of(daemon, cid) for cid in ids}
        assert all(shims.values()), shims
        for how in ("SIGKILL", "SIGTERM", "binary replacement"):
            time.sleep(1)
            if how == "SIGKILL":
                daemon.kill9()
            elif how == "SIGTERM":
                rc, _ = daemon.term()
                assert rc == 0, daemon.log_tail()
            else:
                old_pid = daemon.proc.pid
                new_inode = restoretest.replace_binary(daemon.binary)
                assert os.readlink(f"/proc/{old_pid}/exe").endswith("(deleted)"), "the binary was not replaced"
                rc, _ = daemon.term()
                assert rc == 0, daemon.log_tail()
            _check_untouched(daemon, pids, shims, f"right after {how}")
            time.sleep(DOWNTIME)
            _check_untouched(daemon, pids, shims, f"{DOWNTIME} s after {how}")
            daemon.start()
            if how == "binary replacement":
                assert os.stat(f"/proc/{daemon.proc.pid}/exe").st_ino == new_inode, "moord did not run the new file"
            for cid in ids:
                restoretest.wait_managed(moor, cid)
                state = moor.state(cid)
                assert state["Status"] == "running" and state["Pid"] == pids[cid], (how, state)
                assert restoretest.process_start_time(pids[cid]) == starts[cid], "the container process was replaced"
            assert {cid: restoretest.shim_pid_of(daemon, cid) for cid in ids} == shims, "a shim was replaced"
        time.sleep(1)
        for cid in ids:
            moor.cli("stop", cid, check=True)
            assert moor.state(cid)["ExitCode"] == 0
        for cid in ids:
            entries, errors = restoretest.timestamped_lines(moor, cid)
            assert not errors, errors
            count = check_counter_log(entries)
            # 3 downtimes of 2 s and ~6 s of uptime: far more lines than a
            # container blocked during the downtimes could have written.
            assert count >= (3 * DOWNTIME + 4) / INTERVAL * 0.5, count


def test_sigkill_without_live_restore_does_not_touch_containers():
    """live-restore only changes what a graceful stop does: a crash never
    takes containers with it."""
    with restore_daemon(config={"live-restore": False}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sh", "-c", COUNTER)
        pid = moor.state(cid)["Pid"]
        shim = restoretest.shim_pid_of(daemon, cid)
        time.sleep(0.5)
        daemon.kill9()
        time.sleep(DOWNTIME)
        assert alive(pid) and alive(shim)
        daemon.start()
        restoretest.wait_managed(moor, cid)
        assert moor.state(cid)["Pid"] == pid
        moor.cli("stop", cid, check=True)
        check_counter_log(restoretest.timestamped_lines(moor, cid)[0])


def test_exec_in_progress_survives_daemon_stops():
    exec_loop = ("echo $$ > /tmp/loop.pid; i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; "
                 "mv /tmp/n.new /tmp/n; sleep 0.1; done")
    attached = "echo $$ > /tmp/fg.pid; sleep 4; echo finished > /tmp/fg.done"
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sleep", "1000")
        pid = moor.state(cid)["Pid"]
        moor.cli("exec", "-d", cid, "sh", "-c", exec_loop, check=True)
        client = moor.cli_popen("exec", cid, "sh", "-c", attached)
        try:
            loop_pid = int(wait_until(lambda: restoretest.container_file(pid, "/tmp/loop.pid"), what="the exec loop"))
            wait_until(lambda: restoretest.container_file(pid, "/tmp/fg.pid"), what="the attached exec")
            host_loop = _host_pid_of_exec(pid, loop_pid)

            daemon.kill9()
            before = restoretest.counter_value(pid, "/tmp/n")
            time.sleep(DOWNTIME)
            assert alive(host_loop), "the detached exec died with moord"
            assert restoretest.counter_value(pid, "/tmp/n") > before + 5, "the detached exec stopped making progress"
            daemon.start()
            restoretest.wait_managed(moor, cid)
            wait_until(lambda: restoretest.container_file(pid, "/tmp/fg.done"), timeout=10,
                       what="the attached exec (whose client lost its daemon) to finish its work")

            rc, _ = daemon.term()
            assert rc == 0
            before = restoretest.counter_value(pid, "/tmp/n")
            time.sleep(1)
            assert alive(host_loop) and restoretest.counter_value(pid, "/tmp/n") > before
            daemon.start()
            result = moor.cli("exec", cid, "cat", "/tmp/loop.pid", check=True)
            assert int(result.stdout) == loop_pid
            assert alive(host_loop)
        finally:
            with contextlib.suppress(ProcessLookupError):
                client.kill()
            client.wait()


def _spool_bytes(directory):
    """Bytes in the files under `directory` (the shim replaces some while
    this reads: a file gone meanwhile counts 0)."""
    total = 0
    for root, _, names in os.walk(directory):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def test_execs_are_known_again_after_a_restart_with_their_exit_codes():
    """The previous daemon's execs: `exec inspect` answers for each after a
    restart (created, running, ended during the downtime), a running one is
    followed again until its exit, and one writing while no daemon read it
    has its output drained, so its spool does not stay full."""
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon, api = moor.daemon, moor.client.api
        # A small spool bound (segments of 64 KiB): what a drain frees shows.
        cid = moor.run_d("--log-opt", "spool-max-size=1m", "busybox", "sleep", "1000")
        quick = api.exec_create(cid, ["sh", "-c", "sleep 1.5; exit 5"])["Id"]
        long = api.exec_create(cid, ["sh", "-c", "echo $$ > /tmp/long.pid; exec sleep 1000"])["Id"]
        noisy = api.exec_create(cid, ["sh", "-c", "touch /tmp/noisy.ready; while [ ! -f /tmp/go ]; do sleep 0.05; done; "
                                                  "head -c 3000000 /dev/zero | tr '\\0' x; exec sleep 1000"])["Id"]
        never = api.exec_create(cid, ["true"])["Id"]
        for exec_id in (quick, long, noisy):
            api.exec_start(exec_id, detach=True)
        pid = moor.state(cid)["Pid"]
        wait_until(lambda: restoretest.container_file(pid, "/tmp/long.pid")
                   and restoretest.container_file(pid, "/tmp/noisy.ready") is not None, what="the execs to start")
        pids = {exec_id: api.exec_inspect(exec_id)["Pid"] for exec_id in (quick, long, noisy)}
        assert all(pids.values()), pids

        daemon.kill9()
        with open(f"/proc/{pid}/root/tmp/go", "w"):
            pass
        spools = os.path.join(daemon.data_root, "containers", cid)
        wait_until(lambda: _spool_bytes(spools) > 900_000, what="the noisy exec's output in its spool")
        time.sleep(1.5)  # the quick exec ends while no daemon runs
        daemon.start_restored()

        inspected = api.exec_inspect(quick)
        assert (inspected["Running"], inspected["ExitCode"], inspected["Pid"]) == (False, 5, pids[quick]), inspected
        inspected = api.exec_inspect(long)
        assert (inspected["Running"], inspected["ExitCode"], inspected["Pid"]) == (True, None, pids[long]), inspected
        inspected = api.exec_inspect(never)
        assert (inspected["Running"], inspected["ExitCode"]) == (False, None), inspected
        assert sorted(moor.inspect(cid)["ExecIDs"]) == sorted([long, noisy, never])
        wait_until(lambda: _spool_bytes(spools) < 300_000, what="the noisy exec's spool to be drained")

        # A daemon stopping with live restore lets go of a running exec
        # without recording an end for it.
        rc, _ = daemon.term()
        assert rc == 0
        daemon.start_restored()
        assert api.exec_inspect(long)["Running"] is True
        long_pid = int(restoretest.container_file(pid, "/tmp/long.pid"))
        moor.cli("exec", cid, "kill", "-9", str(long_pid), check=True)
        wait_until(lambda: not api.exec_inspect(long)["Running"], what="the followed exec's end")
        assert api.exec_inspect(long)["ExitCode"] == 137
        assert long not in moor.inspect(cid)["ExecIDs"]


def _host_pid_of_exec(container_pid, pid_in_container):
    """The host pid of a process of the container, given its pid in the
    container's pid namespace (NSpid in /proc/PID/status)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{entry}/ns/pid") != os.readlink(f"/proc/{container_pid}/ns/pid"):
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("NSpid:") and int(line.split()[-1]) == pid_in_container:
                        return int(entry)
    raise AssertionError(f"no process {pid_in_container} in the container of {container_pid}")


def test_sigterm_without_live_restore_stops_containers_in_parallel_and_records_exits():
    stop_timeout = 4
    trap_exit = "trap 'exit 3' TERM; while :; do sleep 0.1; done"
    ignore_term = "trap '' TERM; while :; do sleep 0.1; done"
    own_signal = "trap 'exit 4' USR1; while :; do sleep 0.1; done"
    with restore_daemon(config={"live-restore": False}) as moor:
        daemon = moor.daemon
        graceful = moor.run_d("--stop-timeout", str(stop_timeout), "busybox", "sh", "-c", trap_exit)
        stubborn = [moor.run_d("--stop-timeout", str(stop_timeout), "busybox", "sh", "-c", ignore_term)
                    for _ in range(2)]
        usr1 = moor.run_d("--stop-signal", "USR1", "--stop-timeout", str(stop_timeout), "busybox", "sh", "-c",
                          own_signal)
        comes_back = moor.run_d("--restart", "unless-stopped", "--stop-timeout", str(stop_timeout), "busybox",
                                "sleep", "1000")
        ids = [graceful, *stubborn, usr1, comes_back]
        pids = _pids(moor, ids)
        shims = {cid: restoretest.shim_pid_of(daemon, cid) for cid in ids}
        time.sleep(0.5)
        term_ns = time.time_ns()
        rc, took = daemon.term()
        assert rc == 0, daemon.log_tail()
        # Three containers ignore SIGTERM (sleep as pid 1 too): each costs
        # its stop timeout, but in parallel, so the whole stop takes one
        # timeout, not three.
        assert stop_timeout - 0.5 <= took < 2 * stop_timeout - 1, f"moord took {took:.1f} s to stop"
        for cid, pid in {**pids, **shims}.items():
            assert not alive(pid), f"process {pid} of {cid[:12]} still runs after moord stopped"
        daemon.start()
        expected = {graceful: 3, stubborn[0]: 137, stubborn[1]: 137, usr1: 4}
        for cid, code in expected.items():
            state = moor.state(cid)
            assert state["Status"] == "exited" and state["ExitCode"] == code, (cid[:12], state)
            finished = restoretest.parse_docker_time(state["FinishedAt"])
            assert term_ns <= finished <= term_ns + (stop_timeout + 2) * 1e9, state
        # moord stopped it, not the user: unless-stopped brings it back.
        moor.wait_state(comes_back, "running")
        assert moor.state(comes_back)["Pid"] != pids[comes_back]


def test_daemon_restarted_immediately_after_sigkill_comes_up_and_restores():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sleep", "1000")
        pid = moor.state(cid)["Pid"]
        for _ in range(3):
            daemon.kill9()
            took = restoretest.api_ready_seconds(daemon)
            assert took < 5, f"moord took {took:.1f} s to answer after an immediate restart"
            restoretest.wait_managed(moor, cid)
            assert moor.state(cid)["Pid"] == pid


def _stuck_restore(moor, count=4):
    """Containers whose daemon was SIGKILLed; the first one's shim is
    SIGSTOPped before moord starts again. Returns (ids, the stuck shim's
    pid, how long GET /_ping took, log offset)."""
    daemon = moor.daemon
    ids = [moor.run_d("busybox", "sleep", "1000") for _ in range(count)]
    stuck_shim = restoretest.shim_pid_of(daemon, ids[0])
    daemon.kill9()
    os.kill(stuck_shim, signal.SIGSTOP)
    offset = len(daemon.log())
    return ids, stuck_shim, restoretest.api_ready_seconds(daemon), offset


def test_unresponsive_shim_delays_neither_the_api_nor_the_other_containers():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        ids, stuck_shim, took, offset = _stuck_restore(moor)
        stuck = ids[0]
        try:
            assert took < 2, f"GET /_ping took {took:.1f} s"
            started = time.monotonic()
            listed = {c["Id"] for c in moor.client.api.containers(all=True)}
            assert set(ids) <= listed
            for cid in ids[1:]:
                restoretest.wait_managed(moor, cid, timeout=5)
            assert time.monotonic() - started < 5, "the other containers waited for the stuck shim"
            # The stuck one is reported by id once its restore times out.
            daemon.wait_log(rf"container not restored.*{stuck}|{stuck}.*container not restored", offset, timeout=30)
        finally:
            os.kill(stuck_shim, signal.SIGCONT)


def test_shim_that_answers_again_after_a_failed_restore_is_managed_and_removable():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        ids, stuck_shim, _, offset = _stuck_restore(moor, count=2)
        stuck = ids[0]
        try:
            daemon.wait_log(rf"container not restored.*{stuck}|{stuck}.*container not restored", offset, timeout=30)
        finally:
            os.kill(stuck_shim, signal.SIGCONT)
        try:
            restoretest.wait_managed(moor, stuck, timeout=15)
        finally:
            moor.cli("rm", "-f", stuck)
            leftovers = restoretest.traces(daemon, stuck)
        assert not leftovers, f"rm -f left: {leftovers}"


def test_execs_of_a_container_taken_back_by_a_retry_are_followed_again():
    """An exec running when the daemon died, in a container whose shim did
    not answer at restore: once the retry takes the shim back, the exec is
    followed again and its exit code is known."""
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon, api = moor.daemon, moor.client.api
        cid = moor.run_d("busybox", "sleep", "1000")
        pid = moor.state(cid)["Pid"]
        exec_id = api.exec_create(cid, ["sh", "-c", "touch /tmp/up; while [ ! -f /tmp/go ]; do sleep 0.05; done; exit 7"])["Id"]
        api.exec_start(exec_id, detach=True)
        wait_until(lambda: restoretest.container_file(pid, "/tmp/up") is not None, what="the exec to start")
        stuck_shim = restoretest.shim_pid_of(daemon, cid)
        daemon.kill9()
        os.kill(stuck_shim, signal.SIGSTOP)
        offset = len(daemon.log())
        try:
            restoretest.api_ready_seconds(daemon)
            daemon.wait_log(rf"container not restored.*{cid}|{cid}.*container not restored", offset, timeout=30)
            assert api.exec_inspect(exec_id)["Running"] is True
        finally:
            os.kill(stuck_shim, signal.SIGCONT)
        restoretest.wait_managed(moor, cid, timeout=15)
        with open(f"/proc/{pid}/root/tmp/go", "w"):
            pass
        wait_until(lambda: api.exec_inspect(exec_id)["Running"] is False, timeout=15,
                   what="the exec's exit to be known after the retry")
        assert api.exec_inspect(exec_id)["ExitCode"] == 7


def test_broken_shim_is_reported_by_id_and_does_not_delay_the_others():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        ids = [moor.run_d("busybox", "sleep", "1000") for _ in range(3)]
        broken = ids[0]
        daemon.kill9()
        socket_path = os.path.join(daemon.exec_root, "s", broken[:32], "shim.sock")
        with restoretest.garbage_server(socket_path):
            offset = len(daemon.log())
            took = restoretest.api_ready_seconds(daemon)
            assert took < 2, f"GET /_ping took {took:.1f} s"
            for cid in ids[1:]:
                restoretest.wait_managed(moor, cid, timeout=5)
            daemon.wait_log(rf"container not restored.*{broken}|{broken}.*container not restored", offset,
                            timeout=15)
            assert moor.api("GET", "/_ping").status == 200


def test_exec_refused_on_an_unrestored_container_fails_the_cli():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        broken = moor.run_d("busybox", "sleep", "1000")
        daemon.kill9()
        socket_path = os.path.join(daemon.exec_root, "s", broken[:32], "shim.sock")
        with restoretest.garbage_server(socket_path):
            offset = len(daemon.log())
            daemon.start()
            daemon.wait_log(rf"container not restored.*{broken}|{broken}.*container not restored", offset,
                            timeout=15)
            result = moor.cli("exec", broken, "echo", "hi")
            assert result.stdout != "hi\n"
            assert result.returncode != 0, f"docker exec exited 0 although: {result.stderr!r}"
