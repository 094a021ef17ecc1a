"""Mounts, resource limits and privileges a container is created with."""

import json
import os

import pytest

from moortest import cgroup_file, wait_until


def read(path):
    with open(path) as f:
        return f.read().strip()


def running(moor, *args):
    """A running container (`sleep`) with these run options; returns its id."""
    return moor.run_d(*args, "busybox", "sleep", "300")


def test_bind_mount_is_read_write(moor, tmp_path):
    (tmp_path / "in.txt").write_text("from-host\n")
    r = moor.cli("run", "--rm", "-v", f"{tmp_path}:/data", "busybox", "sh", "-c",
                 "cat /data/in.txt; echo from-container > /data/out.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "from-host\n"
    assert (tmp_path / "out.txt").read_text() == "from-container\n"


def test_bind_mount_read_only_refuses_writes(moor, tmp_path):
    r = moor.cli("run", "--name", "robind", "-v", f"{tmp_path}:/data:ro", "busybox", "sh", "-c",
                 "echo x > /data/out.txt")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr
    assert not (tmp_path / "out.txt").exists()
    mounts = moor.inspect("robind")["Mounts"]
    assert [(m["Source"], m["Destination"], m["RW"]) for m in mounts] == [(str(tmp_path), "/data", False)]


@pytest.mark.parametrize("bind", ["relative/dir:/data", "/src:relative", "/src:/dst:bogus"])
def test_invalid_bind_is_400_naming_it(moor, bind):
    r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["true"],
                                                     "HostConfig": {"Binds": [bind]}})
    assert r.status == 400, r
    assert bind in r.json()["message"]


def test_tmpfs_mount(moor):
    r = moor.cli("run", "--rm", "--tmpfs", "/scratch:size=1m", "busybox", "sh", "-c",
                 "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat /scratch/f")
    assert r.returncode == 0, r.stderr
    line, content = r.stdout.splitlines()
    assert line.split()[2] == "tmpfs"
    assert "size=1024k" in line
    assert content == "x"


def test_readonly_rootfs_refuses_writes_but_tmpfs_works(moor):
    r = moor.cli("run", "--name", "rofs", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                 "touch /scratch/ok && echo tmpfs-ok; touch /file")
    assert r.returncode != 0
    assert r.stdout == "tmpfs-ok\n"
    assert "Read-only file system" in r.stderr
    assert moor.inspect("rofs")["HostConfig"]["ReadonlyRootfs"] is True


def test_memory_limit(moor):
    cid = running(moor, "-m", "64m")
    assert moor.inspect(cid)["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert int(read(cgroup_file("memory", cid, "memory.limit_in_bytes"))) == 64 * 1024 * 1024


def test_memory_limit_oom_kills_a_container_that_exceeds_it(moor):
    # the shell (the container's init) holds 64 MiB in a variable: over 16 MiB
    r = moor.cli("run", "--name", "oom", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived')
    assert "survived" not in r.stdout
    assert r.returncode == 137, (r.returncode, r.stderr)
    state = moor.state("oom")
    assert state["ExitCode"] == 137
    assert state["OOMKilled"] is True


def test_memory_swap(moor):
    cid = running(moor, "-m", "64m", "--memory-swap", "128m")
    assert moor.inspect(cid)["HostConfig"]["MemorySwap"] == 128 * 1024 * 1024
    # the host has swap accounting (memsw) or none at all
    if os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        assert int(read(cgroup_file("memory", cid, "memory.memsw.limit_in_bytes"))) == 128 * 1024 * 1024
    assert int(read(cgroup_file("memory", cid, "memory.limit_in_bytes"))) == 64 * 1024 * 1024


def test_memory_swap_defaults_to_twice_the_memory(moor):
    cid = running(moor, "-m", "32m")
    if os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"):
        assert int(read(cgroup_file("memory", cid, "memory.memsw.limit_in_bytes"))) == 64 * 1024 * 1024


def test_memory_swap_below_memory_is_refused(moor):
    r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["true"], "HostConfig": {
        "Memory": 64 << 20, "MemorySwap": 32 << 20}})
    assert r.status == 400
    assert "memoryswap" in r.json()["message"].lower()


def test_pids_limit_stops_a_fork_bomb(moor):
    # a subshell forks 40 sleepers; the 10th process cannot be made
    cid = moor.run_d("--pids-limit", "10", "busybox", "sh", "-c",
                     "(i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done); echo after; exec sleep 300")
    assert moor.inspect(cid)["HostConfig"]["PidsLimit"] == 10
    assert read(cgroup_file("pids", cid, "pids.max")) == "10"
    wait_until(lambda: "after" in moor.cli("logs", cid).stdout, what="the fork loop to give up")
    assert "can't fork" in moor.cli("logs", cid).stderr
    assert moor.state(cid)["Status"] == "running"
    assert 5 <= int(read(cgroup_file("pids", cid, "pids.current"))) <= 10
    top = moor.client.api.top(cid)
    assert 5 <= len(top["Processes"]) <= 10


def test_pids_limit_attached_shell_fails_to_fork(moor):
    r = moor.cli("run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c",
                 "i=0; while [ $i -lt 20 ]; do sleep 300 & i=$((i+1)); done; echo all-spawned")
    assert r.returncode != 0
    assert "all-spawned" not in r.stdout
    assert "can't fork" in r.stderr


def test_cpu_shares(moor):
    cid = running(moor, "--cpu-shares", "512")
    assert moor.inspect(cid)["HostConfig"]["CpuShares"] == 512
    assert read(cgroup_file("cpu", cid, "cpu.shares")) == "512"


def test_nano_cpus(moor):
    cid = running(moor, "--cpus", "0.5")
    assert moor.inspect(cid)["HostConfig"]["NanoCpus"] == 500_000_000
    assert read(cgroup_file("cpu", cid, "cpu.cfs_period_us")) == "100000"
    assert read(cgroup_file("cpu", cid, "cpu.cfs_quota_us")) == "50000"


def test_cpuset_cpus(moor):
    cid = moor.run_d("--cpuset-cpus", "0", "busybox", "sh", "-c", "nproc; sleep 300")
    assert moor.inspect(cid)["HostConfig"]["CpusetCpus"] == "0"
    assert read(cgroup_file("cpuset", cid, "cpuset.cpus")) == "0"
    wait_until(lambda: moor.cli("logs", cid).stdout, what="nproc's output")
    assert moor.cli("logs", cid).stdout == "1\n"


def test_cap_drop_chown_makes_chown_fail(moor):
    ok = moor.cli("run", "--rm", "busybox", "chown", "nobody", "/tmp")
    assert ok.returncode == 0, ok.stderr
    r = moor.cli("run", "--rm", "--cap-drop", "CHOWN", "busybox", "chown", "nobody", "/tmp")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stderr


def test_cap_add_sys_admin_allows_mounting_tmpfs(moor):
    r = moor.cli("run", "--rm", "busybox", "mount", "-t", "tmpfs", "none", "/tmp")
    assert r.returncode != 0, "mount worked without CAP_SYS_ADMIN"
    r = moor.cli("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c",
                 "mount -t tmpfs none /tmp && grep ' /tmp ' /proc/mounts")
    assert r.returncode == 0, r.stderr
    assert "tmpfs" in r.stdout


def test_cap_add_and_drop_are_shown_by_inspect(moor):
    # inspect shows them as the client sent them (the CLI sends CAP_ names)
    cid = moor.cli("create", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "busybox", "true", check=True).stdout.strip()
    host = moor.inspect(cid)["HostConfig"]
    assert host["CapAdd"] == ["CAP_NET_ADMIN"]
    assert host["CapDrop"] == ["CAP_CHOWN"]
    r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["true"],
                                                     "HostConfig": {"CapAdd": ["net_admin"], "CapDrop": ["MKNOD"]}})
    host = moor.inspect(r.json()["Id"])["HostConfig"]
    assert host["CapAdd"] == ["net_admin"] and host["CapDrop"] == ["MKNOD"]


def test_cap_add_net_admin_takes_effect(moor):
    assert not effective_caps(moor) & (1 << CAP_NET_ADMIN)
    assert effective_caps(moor, "--cap-add", "NET_ADMIN") & (1 << CAP_NET_ADMIN)
    assert not effective_caps(moor, "--cap-drop", "ALL") & ((1 << 41) - 1)


def test_unknown_capability_is_refused_at_create(moor):
    # dockerd: 400 invalid CapAdd: unknown capability: "CAP_MAKE_COFFEE"
    r = moor.api("POST", "/containers/create", body={"Image": "busybox", "Cmd": ["true"],
                                                     "HostConfig": {"CapAdd": ["MAKE_COFFEE"]}})
    assert r.status == 400
    assert "MAKE_COFFEE" in r.json()["message"]


def effective_caps(moor, *args):
    r = moor.cli("run", "--rm", *args, "busybox", "grep", "CapEff", "/proc/self/status")
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[1], 16)


CAP_CHOWN, CAP_NET_ADMIN, CAP_SYS_ADMIN = 0, 12, 21


def test_default_capabilities_are_dockers(moor):
    assert effective_caps(moor) == 0xa80425fb


def test_seccomp_unconfined_lets_unshare_user_namespace_work(moor):
    blocked = moor.cli("run", "--rm", "busybox", "unshare", "-U", "true")
    assert blocked.returncode != 0, "the default seccomp profile let unshare(CLONE_NEWUSER) through"
    r = moor.cli("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")
    assert r.returncode == 0, r.stderr


def _profile(tmp_path, *rules, default="SCMP_ACT_ALLOW"):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"defaultAction": default, "syscalls": list(rules)}))
    return f"seccomp={path}"


# busybox's mkdir calls mkdir(2) or mkdirat(2), depending on the build.
DENY_MKDIR = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}


def test_custom_seccomp_profile_replaces_the_default_for_run_and_exec(moor, tmp_path):
    opt = _profile(tmp_path, DENY_MKDIR)
    r = moor.cli("run", "--rm", "--security-opt", opt, "busybox", "sh", "-c",
                 "mkdir /made; echo mkdir=$?; unshare -U true && echo unshared")
    # EACCES from the profile; and the default profile (which refuses
    # unshare(CLONE_NEWUSER)) is not applied on top of it.
    assert "Permission denied" in r.stderr and r.stdout == "mkdir=1\nunshared\n", (r.stdout, r.stderr)
    cid = moor.run_d("--security-opt", opt, "busybox", "sleep", "300")
    r = moor.cli("exec", cid, "mkdir", "/from-exec")
    assert r.returncode != 0 and "Permission denied" in r.stderr, r.stderr
    assert any(o.startswith("seccomp=") and "mkdirat" in o for o in moor.inspect(cid)["HostConfig"]["SecurityOpt"])


def test_custom_seccomp_rules_follow_the_containers_capabilities(moor, tmp_path):
    opt = _profile(tmp_path, dict(DENY_MKDIR, includes={"caps": ["CAP_NET_ADMIN"]}))
    script = "mkdir /made && echo made"
    assert moor.cli("run", "--rm", "--security-opt", opt, "busybox", "sh", "-c", script).stdout == "made\n"
    r = moor.cli("run", "--rm", "--cap-add", "NET_ADMIN", "--security-opt", opt, "busybox", "sh", "-c", script)
    assert r.returncode != 0 and "Permission denied" in r.stderr, (r.stdout, r.stderr)


def test_custom_seccomp_profile_through_docker_py(moor):
    profile = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    container = moor.client.containers.run("busybox", ["sh", "-c", "mkdir /made; echo $?"],
                                           security_opt=["seccomp=" + profile], detach=True)
    try:
        assert container.wait(timeout=30)["StatusCode"] == 0
        assert container.logs() == b"mkdir: can't create directory '/made': Permission denied\n1\n"
    finally:
        container.remove(force=True)


@pytest.mark.parametrize("profile, needle", [
    ('{"defaultAction": "SCMP_ACT_SOMETIMES"}', '"SCMP_ACT_SOMETIMES" is not a seccomp action'),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", '
     '"args": [{"index": 9, "value": 0, "op": "SCMP_CMP_EQ"}]}]}', "syscalls[0].args[0]: index 9 out of range"),
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}',
     "is not supported by moor"),
])
def test_bad_seccomp_profile_is_refused_at_create_naming_the_problem(moor, tmp_path, profile, needle):
    path = tmp_path / "bad.json"
    path.write_text(profile)
    before = moor.container_ids()
    r = moor.cli("create", "--security-opt", f"seccomp={path}", "busybox", "true")
    assert r.returncode != 0 and needle in r.stderr, r.stderr
    assert moor.container_ids() == before


def test_unknown_security_opt_is_refused(moor):
    r = moor.cli("create", "--security-opt", "bogus-opt=1", "busybox", "true")
    assert r.returncode != 0
    assert "bogus-opt" in r.stderr


def test_privileged_has_all_capabilities_and_can_mount(moor):
    caps = effective_caps(moor, "--privileged")
    assert caps & (1 << CAP_SYS_ADMIN) and caps & (1 << CAP_NET_ADMIN)
    r = moor.cli("run", "--rm", "--privileged", "busybox", "sh", "-c", "mount -t tmpfs none /tmp && echo mounted")
    assert r.stdout == "mounted\n", r.stderr
    cid = moor.cli("create", "--privileged", "busybox", "true", check=True).stdout.strip()
    assert moor.inspect(cid)["HostConfig"]["Privileged"] is True


@pytest.mark.parametrize("args, needle", [
    (["-m", "1k"], "memory"),
    (["--cpuset-cpus", "abc"], "abc"),
])
def test_bad_resource_values_are_refused(moor, args, needle):
    r = moor.cli("create", *args, "busybox", "true")
    assert r.returncode != 0
    assert needle in r.stderr.lower()
