"""Container output across daemon downtime: a writer never blocks, every
line reaches the log driver exactly once with the time the shim read it,
and when a downtime outlasts the spool bound the oldest undelivered data
is dropped with an exact marker line and an event."""

import json
import os
import re
import time

import pytest

import restoretest
from moortest import wait_until
from restoretest import restore_daemon

LINE = 1024
# 1 KiB lines "NNNNNNNN<1015 x>\n" as fast as the shell goes; the count is
# kept in /tmp/progress (by rename) every 100 lines; /tmp/stop ends the
# writing, /tmp/final then holds the last number.
FAST_WRITER = ("trap 'exit 0' TERM; p=x; while [ ${#p} -lt 1015 ]; do p=$p$p; done; p=${p:0:1015}; i=0; "
               "while :; do i=$((i+1)); printf '%08d%s\\n' $i $p; "
               "if [ $((i % 100)) -eq 0 ]; then echo $i > /tmp/p.new; mv /tmp/p.new /tmp/progress; "
               "[ -f /tmp/stop ] && break; fi; done; echo $i > /tmp/f.new; mv /tmp/f.new /tmp/final; "
               "exec sleep 1000")


def _burst_writer(count, then="exec sleep 1000"):
    """Prints 'ready', waits for /tmp/go, writes `count` 1 KiB lines as fast
    as it can, marks /tmp/done, then runs `then`."""
    return ("p=x; while [ ${#p} -lt 1015 ]; do p=$p$p; done; p=${p:0:1015}; echo ready; "
            "while [ ! -f /tmp/go ]; do sleep 0.05; done; i=0; "
            f"while [ $i -lt {count} ]; do i=$((i+1)); printf '%08d%s\\n' $i $p; done; touch /tmp/done; {then}")


def _json_log(daemon, cid):
    return os.path.join(daemon.data_root, "containers", cid, f"{cid}-json.log")


def _read_json_log(path):
    """The json-file driver's records: [(time ns, stream, log bytes)]."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            record = json.loads(raw)
            out.append((restoretest.parse_timestamp(record["time"]), record["stream"], record["log"]))
    return out


def _count_lines(path, state):
    """Lines in a growing file, reading only what is new since last time."""
    with open(path, "rb") as f:
        f.seek(state.get("offset", 0))
        data = f.read()
    complete = data.rfind(b"\n") + 1
    state["offset"] = state.get("offset", 0) + complete
    state["lines"] = state.get("lines", 0) + data.count(b"\n", 0, complete)
    return state["lines"]


def _touch_in(pid, path):
    with open(f"/proc/{pid}/root{path}", "w"):
        pass


def test_fast_writer_never_slows_down_through_a_30s_downtime_and_every_line_arrives_once():
    downtime = 30
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        # A CPU quota keeps the volume small enough for the debug build to
        # drain in time; within it the writer goes as fast as it can, so a
        # blocked write shows at once as a drop in its rate.
        cid = moor.run_d("--cpus", "0.05", "busybox", "sh", "-c", FAST_WRITER)
        pid = moor.state(cid)["Pid"]
        progress = lambda: restoretest.counter_value(pid, "/tmp/progress") or 0  # noqa: E731
        wait_until(lambda: progress() > 0, what="the writer to start")
        time.sleep(1)
        base_from, started = progress(), time.monotonic()
        time.sleep(4)
        rate_up = (progress() - base_from) / (time.monotonic() - started)
        assert rate_up > 200, f"the writer managed only {rate_up:.0f} lines/s with moord up"

        kill_ns = time.time_ns()
        daemon.kill9()
        at_kill = progress()
        samples = [(time.monotonic(), at_kill)]
        while time.monotonic() - samples[0][0] < downtime:
            time.sleep(2)
            samples.append((time.monotonic(), progress()))
        at_restart = samples[-1][1]
        restart_ns = time.time_ns()
        daemon.start()
        rates = [(b - a) / (tb - ta) for (ta, a), (tb, b) in zip(samples, samples[1:])]
        assert min(rates) >= 0.5 * rate_up, (
            f"the writer slowed down while moord was down: {min(rates):.0f} lines/s against {rate_up:.0f} "
            f"with moord up (2 s windows: {[round(r) for r in rates]})")

        _touch_in(pid, "/tmp/stop")
        final = int(wait_until(lambda: restoretest.container_file(pid, "/tmp/final"), what="the writer to stop"))
        path, state = _json_log(daemon, cid), {}
        last = [0, time.monotonic()]

        def delivered():
            lines = _count_lines(path, state)
            if lines != last[0]:
                last[:] = [lines, time.monotonic()]
            assert time.monotonic() - last[1] < 30, f"delivery stalled at {lines} of {final} lines"
            return lines >= final
        wait_until(delivered, timeout=300, interval=0.5, what=f"{final} lines in the log")

        records = _read_json_log(path)
        numbers = [int(text[:8]) for _, _, text in records]
        assert numbers == list(range(1, final + 1)), "lines lost, repeated or out of order"
        assert all(len(text.encode()) == LINE and stream == "stdout" for _, stream, text in records)
        times = [t for t, _, _ in records]
        assert all(a <= b for a, b in zip(times, times[1:])), "timestamps go backwards"
        # The lines written while moord was down carry the times they were
        # read, spread over the downtime, not the reconnect time.
        during = [t for t, _, text in records if at_kill < int(text[:8]) <= at_restart]
        assert during[0] < kill_ns + 2e9 and during[-1] > restart_ns - 3e9, "timestamps bunch up"
        assert max(b - a for a, b in zip(during, during[1:])) < 1.5e9
        assert sum(1 for t in during if t < restart_ns - 10e9) > 0.5 * len(during)
        tail = moor.cli("logs", "--tail", "2", cid, check=True).stdout.splitlines()
        assert [int(line[:8]) for line in tail] == [final - 1, final]


def test_line_being_written_when_moord_dies_arrives_once_and_whole():
    # Half a line, then a line longer than 16 KiB (cut into partial
    # entries) whose first 20 KiB come before the kill and the rest after.
    script = ("printf 'abc'; head -c 20480 /dev/zero | tr '\\0' y; echo $$ > /tmp/ready; "
              "while [ ! -f /tmp/go ]; do sleep 0.05; done; printf 'def\\n'; echo end; exec sleep 1000")
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sh", "-c", script)
        pid = moor.state(cid)["Pid"]
        wait_until(lambda: restoretest.container_file(pid, "/tmp/ready"), what="the first part")
        time.sleep(0.5)  # the 16 KiB partial entry is delivered before the kill
        daemon.kill9()
        _touch_in(pid, "/tmp/go")
        time.sleep(0.5)
        daemon.start()
        wait_until(lambda: moor.cli("logs", cid).stdout.endswith("end\n"), what="the rest of the output")
        assert moor.cli("logs", cid, check=True).stdout == "abc" + "y" * 20480 + "def\nend\n"
        records = _read_json_log(_json_log(daemon, cid))
        assert [len(text) for _, _, text in records] == [16384, 20487 - 16384, 4], \
            "not one 16 KiB partial entry, then the rest of the line, then 'end'"


@pytest.fixture(scope="module")
def spool_overflow():
    """Two containers each write 3 MiB while moord is down: one under the
    daemon's default spool bound (spool-max-size 256k in daemon.json), one
    with its own bound (log-opt spool-max-size=16m). Yields
    (moor, bounded id, roomy id, seconds the writing took, restart time)."""
    count = 3000
    with restore_daemon(config={"live-restore": True, "spool-max-size": "256k"}) as moor:
        daemon = moor.daemon
        bounded = moor.run_d("busybox", "sh", "-c", _burst_writer(count))
        roomy = moor.run_d("--log-opt", "spool-max-size=16m", "busybox", "sh", "-c", _burst_writer(count))
        for cid in (bounded, roomy):
            wait_until(lambda: moor.cli("logs", cid).stdout == "ready\n", what="the first line delivered")
        pids = {cid: moor.state(cid)["Pid"] for cid in (bounded, roomy)}
        daemon.kill9()
        began = time.monotonic()
        for pid in pids.values():
            _touch_in(pid, "/tmp/go")
        for pid in pids.values():
            wait_until(lambda: restoretest.container_file(pid, "/tmp/done") is not None, timeout=30,
                       what="the writer to finish while moord is down (a blocked writer never does)")
        writing = time.monotonic() - began
        restart_ns = time.time_ns()
        daemon.start()
        last_line = b"%08d" % count + b"x" * 1015 + b"\n"
        for cid in (bounded, roomy):
            wait_until(lambda: moor.cli("logs", cid, binary=True).stdout.endswith(last_line), timeout=60,
                       what="the last line delivered")
        yield moor, bounded, roomy, writing, restart_ns


SPOOL_COUNT = 3000
SPOOL_TOTAL = len("ready\n") + SPOOL_COUNT * LINE
MARKER = re.compile(r"^\[moor\] (\d+) bytes of container output were dropped.*$", re.M)


def test_downtime_longer_than_the_spool_never_blocks_and_counts_every_dropped_byte(spool_overflow):
    moor, bounded, roomy, writing, restart_ns = spool_overflow
    assert writing < 20, f"writing 3 MiB took {writing:.1f} s"
    result = moor.cli("logs", bounded, binary=True, check=True)
    out, err = result.stdout, result.stderr.decode()
    lost = [int(n) for n in MARKER.findall(err)]
    assert lost and err.count("\n") == len(lost), f"stderr holds something else than markers: {err!r}"
    assert sum(lost) + len(out) == SPOOL_TOTAL, f"markers say {lost} lost, {len(out)} of {SPOOL_TOTAL} arrived"
    assert out.startswith(b"ready\n"), "output delivered before the downtime was dropped"
    # The newest output is what is kept: the complete lines after the gap
    # run without a hole up to the last one, and the bound held.
    numbers = [int(line[:8]) for line in out.split(b"\n")[1:] if len(line) == LINE - 1]
    assert numbers == list(range(numbers[0], SPOOL_COUNT + 1)), "lines missing after the gap"
    assert numbers[0] > 1 and len(out) < 512 * 1024
    events = [e for e in restoretest.events(moor, restart_ns, type="container", event="log-loss")
              if e["Actor"]["ID"] == bounded]
    assert sum(int(e["Actor"]["Attributes"]["bytes"]) for e in events) == sum(lost), events


def test_container_with_its_own_spool_bound_loses_nothing(spool_overflow):
    moor, _, roomy, _, _ = spool_overflow
    assert moor.inspect(roomy)["HostConfig"]["LogConfig"]["Config"].get("spool-max-size") == "16m"
    result = moor.cli("logs", roomy, binary=True, check=True)
    assert result.stderr == b""
    assert [int(line[:8]) for line in result.stdout.split(b"\n")[1:-1]] == list(range(1, SPOOL_COUNT + 1))


def test_spool_loss_shows_as_one_marker_where_the_output_is_missing(spool_overflow):
    moor, bounded, _, _, _ = spool_overflow
    resp = moor.api("GET", f"/containers/{bounded}/logs?stdout=1&stderr=1")
    assert resp.status == 200, resp
    frames = restoretest.frames(resp.body)
    kinds = [("marker" if stream == 2 else "ready" if payload == b"ready\n" else "line") for stream, payload in frames]
    assert kinds.count("marker") == 1, f"{kinds.count('marker')} marker lines for one downtime"
    assert kinds[:3] == ["ready", "marker", "line"], f"the marker is not where output is missing: {kinds[:8]}"


def test_drops_while_a_slow_daemon_drains_count_only_what_the_driver_lacks():
    """The spool reaches its bound while moord is up but drains slowly: the
    records it dropped include ones moord had read and not yet acknowledged
    (they sit in the log driver, or in a line being assembled). The markers
    count only what the driver lacks: markers + delivered = written."""
    count = 3000
    with restore_daemon(config={"live-restore": True, "spool-max-size": "256k"}) as moor:
        daemon = moor.daemon
        daemon.stop()
        with restoretest.cpu_limited_cgroup(5) as procs:
            daemon.cgroup_procs = procs
            try:
                daemon.start(timeout=120)
                cid = moor.run_d("busybox", "sh", "-c", _burst_writer(count, then="exit 0"))
                wait_until(lambda: moor.cli("logs", cid).stdout == "ready\n", timeout=60,
                           what="the first line delivered")
                _touch_in(moor.state(cid)["Pid"], "/tmp/go")
                moor.cli("wait", cid, check=True, timeout=240)
                result = moor.cli("logs", cid, binary=True, check=True, timeout=120)
            finally:
                daemon.stop()
                daemon.cgroup_procs = None
        out, err = result.stdout, result.stderr.decode()
        lost = [int(n) for n in MARKER.findall(err)]
        assert lost, "nothing was dropped: the test proves nothing (moord drained as fast as the writer wrote)"
        assert sum(lost) + len(out) == SPOOL_TOTAL, f"markers say {lost} lost, {len(out)} of {SPOOL_TOTAL} arrived"


@pytest.mark.parametrize("kill_after", [0.2, 0.6, 1.2])
def test_sigkill_while_draining_a_full_spool_keeps_the_markers_exact(kill_after):
    """A container writes 1 KiB lines flat out through a small spool; moord
    is SIGKILLed while it drains (a batch handed out, perhaps stored, not
    yet acknowledged; a loss record perhaps already reported) and the spool
    overflows while no daemon runs. The next moord's markers count exactly
    what the log lacks: markers + delivered = written."""
    count = 40000
    total = len("ready\n") + count * LINE
    with restore_daemon(config={"live-restore": True, "spool-max-size": "256k"}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sh", "-c", _burst_writer(count))
        wait_until(lambda: moor.cli("logs", cid).stdout == "ready\n", what="the first line delivered")
        pid = moor.state(cid)["Pid"]
        _touch_in(pid, "/tmp/go")
        time.sleep(kill_after)
        daemon.kill9()
        wait_until(lambda: restoretest.container_file(pid, "/tmp/done") is not None, timeout=60,
                   what="the writer to finish while moord is down")
        daemon.start()
        last_line = b"%08d" % count + b"x" * 1015 + b"\n"
        wait_until(lambda: moor.cli("logs", "--tail", "1", cid, binary=True).stdout == last_line, timeout=60,
                   what="the last line delivered")
        result = moor.cli("logs", cid, binary=True, check=True)
    out, err = result.stdout, result.stderr.decode()
    lost = [int(n) for n in MARKER.findall(err)]
    assert lost and err.count("\n") == len(lost), f"stderr holds something else than markers: {err!r}"
    assert sum(lost) + len(out) == total, f"markers say {sum(lost)} lost, {len(out)} of {total} arrived"


def test_backlog_is_delivered_completely_when_a_container_exits_with_a_slow_drain():
    count = 20000
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        cid = moor.run_d("busybox", "sh", "-c", _burst_writer(count, then="exit 0"))
        wait_until(lambda: moor.cli("logs", cid).stdout == "ready\n", what="the first line delivered")
        pid = moor.state(cid)["Pid"]
        daemon.kill9()
        _touch_in(pid, "/tmp/go")
        wait_until(lambda: not restoretest.alive(pid), timeout=30, what="the writer to finish and exit")
        # A moord with a tenth of a CPU drains the 20 MiB backlog slowly,
        # but steadily: nothing is failing.
        with restoretest.cpu_limited_cgroup(10) as procs:
            daemon.cgroup_procs = procs
            try:
                daemon.start(timeout=120)
                moor.cli("wait", cid, check=True, timeout=120)
                path, state, last = _json_log(daemon, cid), {}, [-1, time.monotonic()]

                def settled():
                    lines = _count_lines(path, state)
                    if lines != last[0]:
                        last[:] = [lines, time.monotonic()]
                    return lines == count + 1 or time.monotonic() - last[1] > 5
                wait_until(settled, timeout=300, interval=0.5, what="the delivery to end")
                assert state["lines"] == count + 1, f"{state['lines'] - 1} of {count} lines reached the log driver"
            finally:
                daemon.stop()
                daemon.cgroup_procs = None
