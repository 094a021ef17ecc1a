"""moord's flags and daemon.json, its locks and its socket: each test runs
daemons of its own."""

import contextlib
import json
import os
import signal
import stat
import time

import pytest

from moortest import Daemon, api, running_daemon, temp_root


def refused(config=None, args=()):
    """Runs a moord that must refuse its settings; returns its output."""
    with temp_root() as root:
        daemon = Daemon(root, config=config, args=args)
        try:
            rc, output = daemon.run_to_exit()
        finally:
            daemon.cleanup()
        assert rc != 0, f"moord accepted {config!r} {args!r}:\n{output}"
        assert not os.path.exists(daemon.socket), "a refused moord left its socket behind"
        return output


def test_unknown_daemon_json_key_is_refused_naming_it():
    output = refused(config={"data-root-typo": "/x", "debug": False})
    assert "data-root-typo" in output


def test_wrong_type_in_daemon_json_is_refused_naming_the_key():
    output = refused(config={"live-restore": "yes"})
    assert "live-restore" in output
    output = refused(config={"log-opts": ["max-size=1m"]})
    assert "log-opts" in output


def test_invalid_json_in_daemon_json_is_refused_naming_the_file():
    with temp_root() as root:
        daemon = Daemon(root, config=b'{"debug": tru')
        try:
            rc, output = daemon.run_to_exit()
        finally:
            daemon.cleanup()
    assert rc != 0
    assert daemon.config_path in output


def test_same_setting_as_flag_and_in_file_is_refused():
    output = refused(config={"live-restore": True}, args=["--live-restore"])
    assert "live-restore" in output
    assert "flag" in output and "file" in output


def test_daemon_json_settings_are_applied():
    with running_daemon(config={"live-restore": True, "log-driver": "local"}, import_busybox=False) as moor:
        info = moor.api("GET", "/info").json()
        assert info["LiveRestoreEnabled"] is True
        assert info["LoggingDriver"] == "local"


def test_live_restore_flag_is_applied():
    with running_daemon(args=["--live-restore"], import_busybox=False) as moor:
        assert moor.api("GET", "/info").json()["LiveRestoreEnabled"] is True


def test_second_daemon_on_same_data_root_is_refused_and_first_keeps_serving():
    with running_daemon(import_busybox=False) as first:
        with temp_root() as root:
            second = Daemon(root, data_root=first.daemon.data_root)
            try:
                rc, output = second.run_to_exit()
            finally:
                second.cleanup()
        assert rc != 0, output
        assert first.daemon.data_root in output, output
        assert f"pid {first.daemon.proc.pid}" in output, "the message names the running daemon"
        assert first.daemon.proc.poll() is None, "the first moord died"
        assert first.api("GET", "/_ping").status == 200
        assert first.api("GET", "/info").json()["DockerRootDir"] == first.daemon.data_root


def test_second_daemon_on_same_socket_is_refused_and_first_keeps_serving():
    with running_daemon(import_busybox=False) as first:
        with temp_root() as root:
            second = Daemon(root, socket_path=first.socket)
            try:
                rc, output = second.run_to_exit(timeout=15, probe=False)
            finally:
                second.cleanup()
        assert rc != 0, output
        assert first.socket in output, output
        assert first.daemon.proc.poll() is None, "the first moord died"
        assert os.path.exists(first.socket), "the second moord removed the first one's socket"
        assert first.api("GET", "/_ping").status == 200


def test_daemon_restarts_on_same_data_root_after_the_first_stopped():
    with temp_root() as root:
        daemon = Daemon(root)
        try:
            daemon.start()
            daemon.stop()
            assert not os.path.exists(daemon.socket), "moord left its socket after SIGTERM"
            daemon.start()
            assert api(daemon.socket, "GET", "/_ping").status == 200
        finally:
            daemon.cleanup()


def test_sigterm_stops_the_daemon_and_removes_the_socket():
    with temp_root() as root:
        daemon = Daemon(root)
        try:
            daemon.start()
            daemon.close_event_watch()
            started = time.monotonic()
            daemon.proc.send_signal(signal.SIGTERM)
            assert daemon.proc.wait(timeout=30) == 0, daemon.log()
            assert time.monotonic() - started < 5
            assert not os.path.exists(daemon.socket)
        finally:
            daemon.cleanup()


def test_sigterm_as_soon_as_the_socket_appears_stops_the_daemon_cleanly():
    """A client that stops the daemon the moment its socket exists (before
    it answers) must get a clean stop: exit 0, socket removed. A signal
    trapped only after the server started killed moord in that window."""
    with temp_root() as root:
        daemon = Daemon(root)
        try:
            for _ in range(5):
                daemon.spawn()
                deadline = time.monotonic() + 60
                while not os.path.exists(daemon.socket):
                    assert daemon.proc.poll() is None, daemon.log()
                    assert time.monotonic() < deadline, "moord never created its socket:\n" + daemon.log()
                daemon.proc.send_signal(signal.SIGTERM)
                assert daemon.proc.wait(timeout=30) == 0, daemon.log()
                assert not os.path.exists(daemon.socket), "moord left its socket:\n" + daemon.log()
        finally:
            daemon.cleanup()


def test_sigterm_with_an_open_event_stream_stops_promptly():
    with temp_root() as root:
        daemon = Daemon(root)
        try:
            daemon.start()  # its event watcher keeps GET /events open
            started = time.monotonic()
            daemon.proc.send_signal(signal.SIGTERM)
            rc = daemon.proc.wait(timeout=30)
            took = time.monotonic() - started
            assert rc == 0
            assert "Fatal error" not in daemon.log(), daemon.log()
            assert took < 5, f"moord took {took:.1f}s to stop"
        finally:
            daemon.cleanup()


def test_daemon_leaves_cgroups_of_other_daemons_alone():
    foreign = os.urandom(32).hex()
    created = []
    try:
        for hierarchy in ("pids", "memory"):
            parent = f"/sys/fs/cgroup/{hierarchy}/moor"
            if not os.path.isdir(parent):
                pytest.skip(f"{parent} does not exist (no moor container ran on this host yet)")
            os.mkdir(f"{parent}/{foreign}")
            created.append(f"{parent}/{foreign}")
        with running_daemon(import_busybox=False):
            pass
        assert all(os.path.isdir(path) for path in created), "moord removed a cgroup it does not own"
    finally:
        for path in created:
            with contextlib.suppress(OSError):
                os.rmdir(path)


def test_socket_mode_is_0660():
    with running_daemon(import_busybox=False) as moor:
        mode = os.stat(moor.socket).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o660, oct(stat.S_IMODE(mode))


def test_relative_data_root_is_refused():
    with temp_root() as root:
        daemon = Daemon(root, data_root="relative/dir")
        try:
            rc, output = daemon.run_to_exit()
        finally:
            daemon.cleanup()
    assert rc != 0
    assert "data-root" in output and "relative/dir" in output


def test_unknown_log_driver_in_daemon_json_is_refused():
    output = refused(config={"log-driver": "no-such-driver"})
    assert "no-such-driver" in output



def test_seccomp_profile_setting_is_the_default_and_stays_with_the_containers_made_under_it(tmp_path):
    deny_mkdir = {"defaultAction": "SCMP_ACT_ALLOW",
                  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(deny_mkdir))
    script = "mkdir /made && echo made"
    with running_daemon(config={"seccomp-profile": str(profile)}) as moor:
        under = moor.cli("create", "busybox", "sh", "-c", script, check=True).stdout.strip()
        r = moor.cli("start", "-a", under)
        assert r.returncode != 0 and "Permission denied" in r.stderr, (r.stdout, r.stderr)
        # A container's own choice wins.
        assert moor.cli("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c",
                        script).stdout == "made\n"
        assert f"name=seccomp,profile={profile}" in moor.client.info()["SecurityOptions"]

        # The next daemon has Docker's default: new containers get it; the
        # one made under the profile keeps it, and says so.
        moor.daemon.stop()
        moor.daemon.config = {}
        moor.daemon.write_config()
        moor.daemon.start()
        assert moor.cli("run", "--rm", "busybox", "sh", "-c", script).stdout == "made\n"
        r = moor.cli("start", "-a", under)
        assert r.returncode != 0 and "Permission denied" in r.stderr, (r.stdout, r.stderr)
        assert any("seccomp-profile" in item for item in moor.inspect(under)["Moor"]["SettingsDrift"])
        assert "name=seccomp,profile=default" in moor.client.info()["SecurityOptions"]


def test_unusable_seccomp_profile_setting_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"defaultAction": "SCMP_ACT_SOMETIMES"}')
    output = refused(config={"seccomp-profile": str(bad)})
    assert str(bad) in output and "SCMP_ACT_SOMETIMES" in output
    output = refused(config={"seccomp-profile": str(tmp_path / "missing.json")})
    assert "missing.json" in output
