"""inspect, ps and its filters, top, rename, rm, prune."""

import os
import re

import docker
import pytest

from moortest import alive, cgroup_dirs, wait_until

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_inspect_shows_docker_fields(moor):
    cid = moor.run_d("--name", "insp", "busybox", "sleep", "300")
    info = moor.inspect("insp")
    assert info["Id"] == cid
    assert info["Name"] == "/insp"
    assert info["Path"] == "sleep" and info["Args"] == ["300"]
    assert RFC3339.match(info["Created"]), info["Created"]
    state = info["State"]
    assert state["Status"] == "running" and state["Running"] and not state["Paused"]
    assert RFC3339.match(state["StartedAt"]) and state["FinishedAt"] == "0001-01-01T00:00:00Z"
    assert state["Pid"] > 0 and os.path.exists(f"/proc/{state['Pid']}")
    assert info["Image"].startswith("sha256:")
    assert info["Config"]["Image"] == "busybox"
    assert info["Config"]["Cmd"] == ["sleep", "300"]
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert info["RestartCount"] == 0
    assert moor.inspect(cid[:12])["Id"] == cid, "a short id prefix resolves"
    # docker inspect --format reads the same document
    out = moor.cli("inspect", "--format", "{{.Name}} {{.State.Status}} {{.Config.Image}}", cid, check=True).stdout
    assert out.strip() == "/insp running busybox"


def test_inspect_after_exit(moor):
    moor.cli("run", "--name", "ended", "busybox", "sh", "-c", "exit 9")
    state = moor.state("ended")
    assert state["Status"] == "exited" and state["ExitCode"] == 9 and state["Pid"] == 0
    assert RFC3339.match(state["FinishedAt"]) and state["FinishedAt"] != "0001-01-01T00:00:00Z"


def test_inspect_finished_at_is_not_before_started_at(moor):
    for _ in range(3):
        cid = moor.cli("run", "-d", "busybox", "true", check=True).stdout.strip()
        moor.client.api.wait(cid, timeout=20)
        state = moor.state(cid)
        assert state["FinishedAt"] >= state["StartedAt"], state


def test_inspect_by_ambiguous_prefix_is_refused(moor):
    ids = [moor.cli("create", "busybox", "true", check=True).stdout.strip() for _ in range(20)]
    firsts = {}
    for cid in ids:
        firsts.setdefault(cid[0], []).append(cid)
    prefix = next(k for k, v in firsts.items() if len(v) > 1)
    r = moor.api("GET", f"/containers/{prefix}/json")
    assert r.status in (400, 404, 409) and r.status != 200


def names(moor, *filters, all_=True):
    args = ["ps", "--format", "{{.Names}}"] + (["-a"] if all_ else [])
    for f in filters:
        args += ["--filter", f]
    return sorted(moor.cli(*args, check=True).stdout.split())


def test_ps_lists_running_and_all(moor):
    moor.run_d("--name", "ps-run", "busybox", "sleep", "300")
    moor.cli("create", "--name", "ps-created", "busybox", "true", check=True)
    assert names(moor, all_=False) == ["ps-run"]
    assert names(moor) == ["ps-created", "ps-run"]
    rows = moor.client.api.containers(all=True)
    run = next(r for r in rows if r["Names"] == ["/ps-run"])
    assert run["State"] == "running" and run["Status"].startswith("Up")
    assert run["Image"] == "busybox" and run["Command"] == "sleep 300"
    created = next(r for r in rows if r["Names"] == ["/ps-created"])
    assert created["Status"] == "Created"


def test_ps_command_column_as_dockerd_writes_it(moor):
    cid = moor.cli("create", "busybox", "sh", "-c", "echo hi there", check=True).stdout.strip()
    row = moor.client.api.containers(all=True, filters={"id": cid})[0]
    assert row["Command"] == "sh -c 'echo hi there'"
    out = moor.cli("ps", "-a", "--no-trunc", "--filter", f"id={cid}", "--format", "{{.Command}}", check=True).stdout
    assert out.strip() == '"sh -c \'echo hi there\'"'


def test_ps_filters(moor):
    moor.cli("tag", "busybox", "other-image:v1", check=True)
    a = moor.run_d("--name", "fa", "-l", "env=a", "busybox", "sleep", "300")
    moor.cli("run", "--name", "fb", "-l", "env=b", "busybox", "sh", "-c", "exit 3")
    moor.cli("create", "--name", "fc", "-l", "other", "other-image:v1", "true", check=True)
    assert names(moor, f"id={a[:10]}") == ["fa"]
    assert names(moor, "name=fb") == ["fb"]
    assert names(moor, "label=env=a") == ["fa"]
    assert names(moor, "label=env") == ["fa", "fb"]
    assert names(moor, "label=other") == ["fc"]
    assert names(moor, "status=exited") == ["fb"]
    assert names(moor, "status=created") == ["fc"]
    assert names(moor, "status=running") == ["fa"]
    assert names(moor, "exited=3") == ["fb"]
    # Docker resolves the ancestor to an image: other-image:v1 is busybox's image
    assert names(moor, "ancestor=other-image:v1") == ["fa", "fb", "fc"]
    assert names(moor, "label=env=a", "status=exited") == []
    r = moor.api("GET", '/containers/json?all=1&filters={"status":["sleepy"]}')
    assert r.status == 400 and "sleepy" in r.json()["message"]
    r = moor.api("GET", '/containers/json?all=1&filters={"colour":["red"]}')
    assert r.status == 400 and "colour" in r.json()["message"]


def test_ps_filter_ancestor_by_image_id(moor):
    moor.cli("create", "--name", "anc", "busybox", "true", check=True)
    image_id = moor.client.api.inspect_image("busybox")["Id"]
    assert names(moor, f"ancestor={image_id}") == ["anc"]
    assert names(moor, f"ancestor={image_id[7:19]}") == ["anc"]


def test_ps_filter_ancestor_resolves_the_name_to_an_image(moor):
    moor.cli("tag", "busybox", "alias-image:v1", check=True)
    moor.cli("create", "--name", "anc-a", "alias-image:v1", "true", check=True)
    moor.cli("create", "--name", "anc-b", "busybox", "true", check=True)
    assert names(moor, "ancestor=alias-image:v1") == ["anc-a", "anc-b"]
    assert names(moor, "ancestor=busybox") == ["anc-a", "anc-b"]


def test_ps_last_and_quiet(moor):
    first = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    second = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    out = moor.cli("ps", "-a", "-q", "--no-trunc", check=True).stdout.split()
    assert out[:2] == [second, first], "newest first"
    assert moor.cli("ps", "-a", "-q", "--no-trunc", "-n", "1", check=True).stdout.split() == [second]


def test_top_lists_the_container_processes(moor):
    # busybox sh runs its last command with exec: two processes
    cid = moor.run_d("busybox", "sh", "-c", "sleep 301 & sleep 302")
    wait_until(lambda: len(moor.client.api.top(cid)["Processes"]) >= 2, what="two processes")
    top = moor.client.api.top(cid)
    assert "PID" in top["Titles"] and "CMD" in top["Titles"]
    cmd = top["Titles"].index("CMD")
    commands = [p[cmd] for p in top["Processes"]]
    assert any("sleep 301" in c for c in commands) and any("sleep 302" in c for c in commands)
    pid = top["Titles"].index("PID")
    assert str(moor.state(cid)["Pid"]) in [p[pid] for p in top["Processes"]]
    assert len(top["Processes"]) == 2, "processes outside the container are listed"
    r = moor.cli("top", cid, check=True)
    assert "sleep 302" in r.stdout


def test_top_of_stopped_container_is_409(moor):
    cid = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    r = moor.api("GET", f"/containers/{cid}/top")
    assert r.status == 409


def test_rename(moor):
    cid = moor.cli("create", "--name", "old-name", "busybox", "true", check=True).stdout.strip()
    moor.cli("create", "--name", "taken", "busybox", "true", check=True)
    moor.cli("rename", "old-name", "new-name", check=True)
    assert moor.inspect(cid)["Name"] == "/new-name"
    assert moor.api("GET", "/containers/old-name/json").status == 404
    r = moor.cli("rename", "new-name", "taken")
    assert r.returncode != 0 and "taken" in r.stderr
    r = moor.api("POST", f"/containers/{cid}/rename?name=bad%20name")
    assert r.status == 400 and "bad name" in r.json()["message"]
    # the old name is free again
    moor.cli("create", "--name", "old-name", "busybox", "true", check=True)


def test_rm_of_running_container_is_409_and_rm_force_kills_it(moor):
    cid = moor.run_d("busybox", "sleep", "300")
    pid = moor.state(cid)["Pid"]
    r = moor.api("DELETE", f"/containers/{cid}")
    assert r.status == 409
    assert "running" in r.json()["message"]
    r = moor.cli("rm", cid)
    assert r.returncode != 0 and "force" in r.stderr
    assert cgroup_dirs(cid), "the running container has no cgroup"
    moor.cli("rm", "-f", cid, check=True)
    assert cid not in moor.container_ids()
    assert not alive(pid)
    assert moor.api("GET", f"/containers/{cid}/json").status == 404
    wait_until(lambda: not cgroup_dirs(cid), what="the container's cgroups to go")
    assert not os.path.exists(os.path.join(moor.daemon.data_root, "containers", cid))


def test_rm_of_stopped_container_removes_its_files(moor):
    cid = moor.cli("run", "-d", "busybox", "true", check=True).stdout.strip()
    moor.client.api.wait(cid, timeout=30)
    moor.cli("rm", cid, check=True)
    assert not os.path.exists(os.path.join(moor.daemon.data_root, "containers", cid))
    assert not cgroup_dirs(cid)
    leftovers = [d for d in os.listdir(moor.daemon.exec_root) if cid[:12] in d]
    assert leftovers == []


def test_rm_of_missing_container_is_404(moor):
    r = moor.cli("rm", "no-such-ctr")
    assert r.returncode != 0
    assert "No such container: no-such-ctr" in r.stderr


def test_container_prune_removes_only_stopped(moor):
    running = moor.run_d("busybox", "sleep", "300")
    stopped = [moor.cli("run", "-d", "busybox", "true", check=True).stdout.strip() for _ in range(2)]
    created = moor.cli("create", "busybox", "true", check=True).stdout.strip()
    for cid in stopped:
        moor.client.api.wait(cid, timeout=30)
    result = moor.client.api.prune_containers()
    assert sorted(result["ContainersDeleted"]) == sorted(stopped + [created])
    assert moor.container_ids() >= {running}
    assert not (set(stopped) | {created}) & moor.container_ids()
    r = moor.cli("container", "prune", "-f", check=True)
    assert "Total reclaimed space" in r.stdout


def test_docker_py_container_objects(moor):
    c = moor.client.containers.run("busybox", ["sleep", "300"], detach=True, name="pyobj", labels={"k": "v"})
    assert moor.client.containers.get("pyobj").id == c.id
    assert [x.name for x in moor.client.containers.list(filters={"label": "k=v"})] == ["pyobj"]
    c.kill()
    c.wait(timeout=20)
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        moor.client.containers.get("pyobj")
