"""events: container and image lifecycle, since/until, filters, streaming."""

import json
import time

from moortest import wait_until


def events(moor, since, until, *filters, fmt="{{.Type}} {{.Action}} {{.Actor.ID}}"):
    args = ["events", "--since", f"{since:.6f}", "--until", f"{until:.6f}", "--format", fmt]
    for f in filters:
        args += ["--filter", f]
    r = moor.cli(*args, check=True, timeout=30)
    return [line.split(" ", 2) for line in r.stdout.splitlines()]


def test_container_lifecycle_events_in_order(moor):
    t0 = time.time()
    cid = moor.cli("create", "--name", "ev1", "busybox", "sh", "-c", "exit 3", check=True).stdout.strip()
    moor.cli("start", "-a", "ev1")
    moor.cli("rm", "ev1", check=True)
    t1 = time.time() + 0.5
    actions = [a for t, a, actor in events(moor, t0, t1, "container=" + cid)]
    for expected in ("create", "start", "die", "destroy"):
        assert expected in actions, actions
    assert actions.index("create") < actions.index("start") < actions.index("die") < actions.index("destroy")
    die = [json.loads(line) for line in moor.cli(
        "events", "--since", f"{t0:.6f}", "--until", f"{t1:.6f}", "--filter", "event=die", "--filter",
        "container=" + cid, "--format", "{{json .}}", check=True).stdout.splitlines()]
    assert len(die) == 1
    assert die[0]["Actor"]["Attributes"]["exitCode"] == "3"
    assert die[0]["Actor"]["Attributes"]["name"] == "ev1"
    assert die[0]["Actor"]["Attributes"]["image"] == "busybox"


def test_event_json_fields(moor):
    t0 = time.time()
    moor.cli("create", "--name", "ev2", "-l", "k=v", "busybox", "true", check=True)
    r = moor.api("GET", f"/events?since={t0:.6f}&until={time.time() + 0.5:.6f}")
    assert r.status == 200
    docs = [json.loads(line) for line in r.body.splitlines()]
    create = [d for d in docs if d["Type"] == "container" and d["Action"] == "create"]
    assert len(create) == 1
    e = create[0]
    assert e["status"] == "create" and e["id"] == e["Actor"]["ID"] and e["from"] == "busybox"
    assert e["scope"] == "local"
    assert e["Actor"]["Attributes"]["k"] == "v"
    assert isinstance(e["time"], int) and isinstance(e["timeNano"], int)
    assert abs(e["timeNano"] / 1e9 - e["time"]) < 1
    assert t0 - 1 <= e["time"] <= time.time() + 1


def test_events_since_until_window(moor):
    moor.cli("create", "--name", "ev-before", "busybox", "true", check=True)
    time.sleep(1.1)
    t0 = time.time()
    moor.cli("create", "--name", "ev-inside", "busybox", "true", check=True)
    t1 = time.time()
    time.sleep(1.1)
    moor.cli("create", "--name", "ev-after", "busybox", "true", check=True)
    names = [line[2] for line in events(moor, t0, t1, "event=create", fmt="{{.Type}} {{.Action}} "
                                        "{{index .Actor.Attributes \"name\"}}")]
    assert names == ["ev-inside"]


def test_events_filters(moor):
    t0 = time.time()
    moor.cli("run", "--name", "evf-a", "-l", "grp=one", "busybox", "true", check=True)
    moor.cli("run", "--name", "evf-b", "-l", "grp=two", "busybox", "true", check=True)
    t1 = time.time() + 0.5
    fmt = "{{.Type}} {{.Action}} {{index .Actor.Attributes \"name\"}}"
    got = events(moor, t0, t1, "event=start", fmt=fmt)
    assert [x[2] for x in got] == ["evf-a", "evf-b"] and {x[1] for x in got} == {"start"}
    assert [x[2] for x in events(moor, t0, t1, "event=start", "label=grp=two", fmt=fmt)] == ["evf-b"]
    assert [x[2] for x in events(moor, t0, t1, "event=die", "container=evf-a", fmt=fmt)] == ["evf-a"]
    assert {x[0] for x in events(moor, t0, t1, "type=container", fmt=fmt)} == {"container"}
    assert events(moor, t0, t1, "type=image", fmt=fmt) == []
    r = moor.api("GET", '/events?since=0&until=1&filters={"colour":["red"]}')
    assert r.status == 400


def test_image_lifecycle_events(moor):
    t0 = time.time()
    moor.import_busybox("evimg:one")
    moor.cli("tag", "evimg:one", "evimg:two", check=True)
    moor.cli("rmi", "evimg:two", check=True)
    moor.cli("rmi", "evimg:one", check=True)
    t1 = time.time() + 0.5
    actions = [a for t, a, actor in events(moor, t0, t1, "type=image")]
    assert actions[0] == "import", actions
    assert actions.count("tag") >= 2 and actions.count("untag") == 2 and actions.count("delete") == 1
    assert actions[-1] == "delete"


def test_events_stream_live(moor):
    proc = moor.cli_popen("events", "--filter", "event=die", "--format", "{{index .Actor.Attributes \"name\"}}")
    try:
        time.sleep(0.5)
        moor.cli("run", "--name", "live-ev", "busybox", "true", check=True)
        line = proc.stdout.readline()
        assert line == b"live-ev\n"
    finally:
        proc.kill()
        proc.wait()
    assert moor.api("GET", "/_ping").status == 200


def test_events_until_in_the_future_ends_the_stream(moor):
    until = time.time() + 1.5
    start = time.monotonic()
    r = moor.api("GET", f"/events?since={time.time() - 1:.3f}&until={until:.3f}", timeout=20)
    assert r.status == 200
    assert 0.5 < time.monotonic() - start < 10


def test_docker_py_events_decode(moor):
    t0 = time.time()
    moor.cli("create", "--name", "pyev", "busybox", "true", check=True)
    got = list(moor.client.events(since=t0, until=time.time() + 0.5, decode=True,
                                  filters={"container": "pyev"}))
    assert [e["Action"] for e in got] == ["create"]


def test_exec_events(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    t0 = time.time()
    moor.cli("exec", cid, "true", check=True)
    t1 = time.time() + 0.5
    wait_until(lambda: any(a.startswith("exec_die") for _, a, _ in events(moor, t0, t1, "container=" + cid)),
               what="exec_die")
    actions = [a for _, a, _ in events(moor, t0, t1, "container=" + cid)]
    assert any(a.startswith("exec_create") for a in actions)
    assert any(a.startswith("exec_start") for a in actions)
