"""live-restore and the other reloadable settings: daemon.json or the flag
(never both), SIGHUP applying them without a restart and logging what
changed, an invalid file on reload changing nothing."""

import time

import restoretest
from moortest import Daemon, temp_root
from restoretest import COUNTER, alive, restore_daemon


def _reload(daemon, config):
    """Writes daemon.json, sends SIGHUP and waits for the reload's log line;
    returns the log written since."""
    offset = len(daemon.log())
    daemon.set_config(config)
    daemon.hup()
    daemon.wait_log(r"reloaded configuration|reload refused", offset)
    time.sleep(0.2)
    return daemon.log_since(offset)


def _info(moor):
    return moor.api("GET", "/info").json()


def test_live_restore_given_as_flag_and_in_daemon_json_is_refused_whatever_the_values():
    with temp_root() as root:
        daemon = Daemon(root, config={"live-restore": False}, args=["--live-restore"])
        try:
            rc, output = daemon.run_to_exit()
        finally:
            daemon.cleanup()
    assert rc != 0
    assert "live-restore" in output and "flag" in output and "file" in output


def test_sighup_turns_live_restore_on_and_off():
    with restore_daemon(config={"live-restore": False}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("--stop-timeout", "1", "busybox", "sh", "-c", COUNTER)
        pid = moor.state(cid)["Pid"]
        assert _info(moor)["LiveRestoreEnabled"] is False

        log = _reload(daemon, {"live-restore": True})
        assert "live-restore: false -> true" in log, log
        assert _info(moor)["LiveRestoreEnabled"] is True
        assert alive(pid), "a reload touched the container"
        rc, _ = daemon.term()
        assert rc == 0
        time.sleep(1)
        assert alive(pid), "SIGTERM after turning live restore on stopped the container"
        # The file says true now, so the next daemon restores.
        daemon.start()
        restoretest.wait_managed(moor, cid)
        assert moor.state(cid)["Pid"] == pid

        log = _reload(daemon, {"live-restore": False})
        assert "live-restore: true -> false" in log, log
        assert _info(moor)["LiveRestoreEnabled"] is False
        rc, _ = daemon.term()
        assert rc == 0
        assert not alive(pid), "SIGTERM after turning live restore off left the container running"
        daemon.start_restored()
        state = moor.state(cid)
        assert state["Status"] == "exited" and state["ExitCode"] == 0, state
        restoretest.check_counter_log(restoretest.timestamped_lines(moor, cid)[0])


def test_sighup_applies_log_level_and_default_log_driver_and_options():
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        before = moor.run_d("busybox", "echo", "before")
        log = _reload(daemon, {"live-restore": True, "log-level": "debug", "log-driver": "local",
                               "log-opts": {"max-size": "2m"}})
        assert "log-driver: json-file -> local" in log, log
        assert "log-level: info -> debug" in log, log
        assert "log-opts" in log and "max-size" in log, log
        info = _info(moor)
        assert info["LoggingDriver"] == "local" and info["Debug"] is True
        after = moor.run_d("busybox", "echo", "after")
        assert moor.inspect(after)["HostConfig"]["LogConfig"] == {"Type": "local", "Config": {"max-size": "2m"}}
        assert moor.inspect(before)["HostConfig"]["LogConfig"]["Type"] == "json-file"
        for cid, text in ((before, "before\n"), (after, "after\n")):
            moor.wait_state(cid, "exited")
            assert moor.cli("logs", cid, check=True).stdout == text
        # Back to info: debug lines stop.
        log = _reload(daemon, {"live-restore": True})
        assert "log-level: debug -> info" in log and "log-driver: local -> json-file" in log, log
        assert _info(moor)["Debug"] is False


def test_invalid_daemon_json_on_reload_is_logged_and_changes_nothing():
    with restore_daemon(config={"live-restore": True, "log-driver": "json-file"}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sleep", "1000")
        for bad, reason in ((b'{"live-restore": fals', "invalid JSON"),
                            ({"live-restore": False, "no-such-key": 1}, "no-such-key"),
                            ({"live-restore": "no"}, "live-restore"),
                            ({"live-restore": False, "log-driver": "no-such-driver"}, "no-such-driver")):
            log = _reload(daemon, bad)
            assert "reload refused" in log and reason in log, (bad, log)
            info = _info(moor)
            assert info["LiveRestoreEnabled"] is True and info["LoggingDriver"] == "json-file", bad
            assert daemon.alive
        # The running settings stayed: SIGTERM leaves the container alone.
        pid = moor.state(cid)["Pid"]
        daemon.set_config({"live-restore": True})
        rc, _ = daemon.term()
        assert rc == 0 and alive(pid)
        daemon.start()
        restoretest.wait_managed(moor, cid)
