// The default config.json (spec.c): Docker's defaults, read back through the
// shim's own parser, and the --cap-add / --cap-drop / --privileged /
// --no-seccomp variants the daemon asks `moor-shim spec` for.
import Foundation
import MoorShimCore
import Testing

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private func strings(_ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
    guard let v else { return [] }
    return (0..<n).map { v[$0].map { String(cString: $0) } ?? "<null>" }
}

private func cap(_ name: String) -> UInt64 {
    let n = moor_cap_from_name(name)
    precondition(n >= 0, "unknown capability \(name)")
    return 1 << UInt64(n)
}

/// The spec's text for `opt`, or nil (and a recorded issue).
private func specJSON(_ opt: moor_spec_options_t = moor_spec_options_t()) -> String? {
    var opt = opt
    var out: UnsafeMutablePointer<CChar>?
    var err = moor_err_t()
    let rc = moor_spec_build(&opt, &out, &err)
    #expect(rc == 0, "moor_spec_build: \(message(err))")
    guard rc == 0, let out else { return nil }
    defer { free(out) }
    return String(cString: out)
}

/// The spec parsed by moor_config_parse, handed to `body`, then freed.
private func withSpec(_ opt: moor_spec_options_t = moor_spec_options_t(), _ body: (moor_config_t) -> Void) {
    guard let json = specJSON(opt) else { return }
    var cfg = moor_config_t()
    var err = moor_err_t()
    let rc = json.withCString { moor_config_parse($0, strlen($0), &cfg, &err) }
    defer { moor_config_free(&cfg) }
    #expect(rc == 0, "the spec does not parse: \(message(err))")
    if rc == 0 { body(cfg) }
}

private struct Mount: Equatable, CustomStringConvertible {
    var destination, type, source: String
    var options: [String]
    var description: String { "\(destination) \(type) \(source) \(options)" }
}

private func mounts(_ cfg: moor_config_t) -> [Mount] {
    (0..<cfg.n_mounts).map { i in
        let m = cfg.mounts[i]
        return Mount(destination: String(cString: m.destination), type: String(cString: m.type),
                     source: String(cString: m.source), options: strings(m.options, m.n_options))
    }
}

/// Syscalls the profile allows whatever the arguments.
private func allowedCalls(_ cfg: moor_config_t) -> Set<String> {
    var names = Set<String>()
    let s = cfg.seccomp
    for i in 0..<s.n_rules where s.rules[i].action == MOOR_SECCOMP_ALLOW && s.rules[i].n_args == 0 {
        names.formUnion(strings(s.rules[i].names, s.rules[i].n_names))
    }
    return names
}

private let dockerMasked = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
]
private let dockerReadonly = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

@Suite("default spec (moor-shim spec)")
struct SpecTests {
    @Test func processIsDockersDefault() {
        withSpec { cfg in
            #expect(String(cString: cfg.oci_version) == "1.0.2")
            let p = cfg.process
            #expect(strings(p.args, p.n_args) == ["sh"])
            #expect(strings(p.env, p.n_env) == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            #expect(String(cString: p.cwd) == "/")
            #expect(p.uid == 0 && p.gid == 0 && p.n_additional_gids == 0)
            #expect(!p.terminal && !p.no_new_privileges)
            #expect(p.n_rlimits == 0, "never an rlimit the user did not ask for")
            #expect(String(cString: cfg.root_path) == "rootfs" && !cfg.root_readonly)
            #expect(String(cString: cfg.hostname) == "moor")
            #expect(cfg.cgroups_path == nil, "the caller sets cgroupsPath")
        }
    }

    @Test func capabilitiesAreDockersFourteen() {
        withSpec { cfg in
            let caps = cfg.process.caps
            #expect(caps.present)
            #expect(caps.bounding == moor_caps_docker_default())
            #expect(caps.bounding == 0xa804_25fb)
            #expect(caps.bounding.nonzeroBitCount == 14)
            #expect(caps.effective == caps.bounding && caps.permitted == caps.bounding)
            #expect(caps.inheritable == 0 && caps.ambient == 0)
        }
    }

    @Test func textHasNoRlimitsAndNoCgroupsPath() throws {
        let json = try #require(specJSON())
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let process = try #require(doc["process"] as? [String: Any])
        #expect(process["rlimits"] == nil)
        let linux = try #require(doc["linux"] as? [String: Any])
        #expect(linux["cgroupsPath"] == nil && linux["resources"] == nil)
    }

    @Test func mountsAreDockers() {
        withSpec { cfg in
            #expect(mounts(cfg) == [
                Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                      options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
                Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                      options: ["ro", "nosuid", "noexec", "nodev"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]),
            ])
        }
    }

    @Test func namespacesMaskedAndReadonlyPathsAndSeccomp() {
        withSpec { cfg in
            let types = (0..<cfg.n_namespaces).map { cfg.namespaces[$0].type }
            #expect(types == [MOOR_NS_PID, MOOR_NS_NET, MOOR_NS_IPC, MOOR_NS_UTS, MOOR_NS_MOUNT, MOOR_NS_CGROUP])
            #expect((0..<cfg.n_namespaces).allSatisfy { cfg.namespaces[$0].path == nil })
            #expect(strings(cfg.masked_paths, cfg.n_masked_paths) == dockerMasked)
            #expect(strings(cfg.readonly_paths, cfg.n_readonly_paths) == dockerReadonly)
            #expect(cfg.has_seccomp && cfg.seccomp.default_action == MOOR_SECCOMP_ERRNO)
            #expect(!allowedCalls(cfg).contains("mount"))
        }
    }

    @Test func privilegedIsEverythingAndNoConfinement() {
        var opt = moor_spec_options_t()
        opt.privileged = true
        withSpec(opt) { cfg in
            let all = moor_spec_all_caps()
            #expect(cfg.process.caps.bounding == all && cfg.process.caps.effective == all)
            #expect(all & cap("CAP_SYS_ADMIN") != 0 && all.nonzeroBitCount > 30)
            #expect(!cfg.has_seccomp)
            #expect(cfg.n_masked_paths == 0 && cfg.n_readonly_paths == 0)
            let byDest = Dictionary(uniqueKeysWithValues: mounts(cfg).map { ($0.destination, $0.options) })
            #expect(byDest["/sys"] == ["nosuid", "noexec", "nodev"], "rw /sys, as Docker's --privileged")
            #expect(byDest["/sys/fs/cgroup"] == ["nosuid", "noexec", "nodev"])
        }
    }

    @Test func capAddChangesCapsAndTheSeccompProfile() {
        var opt = moor_spec_options_t()
        opt.cap_add = cap("CAP_SYS_ADMIN") | cap("CAP_SYS_PTRACE")
        withSpec(opt) { cfg in
            #expect(cfg.process.caps.bounding == moor_caps_docker_default() | opt.cap_add)
            let allowed = allowedCalls(cfg)
            for name in ["mount", "unshare", "setns", "clone", "ptrace"] {
                #expect(allowed.contains(name), "\(name)")
            }
            #expect(cfg.n_masked_paths == dockerMasked.count, "cap-add is not --privileged")
        }
    }

    @Test func capDropChangesCapsAndTheSeccompProfile() {
        var opt = moor_spec_options_t()
        opt.cap_drop = cap("CAP_SYS_CHROOT") | cap("CAP_CHOWN")
        withSpec(opt) { cfg in
            #expect(cfg.process.caps.bounding == moor_caps_docker_default() & ~opt.cap_drop)
            #expect(cfg.process.caps.bounding.nonzeroBitCount == 12)
            #expect(!allowedCalls(cfg).contains("chroot"))
        }
    }

    @Test func capsFollowDockersAllRules() {
        var opt = moor_spec_options_t()
        opt.cap_add_all = true
        opt.cap_drop = cap("CAP_NET_ADMIN")
        #expect(moor_spec_caps(&opt) == moor_spec_all_caps() & ~cap("CAP_NET_ADMIN"))
        opt = moor_spec_options_t()
        opt.cap_drop_all = true
        opt.cap_add = cap("CAP_KILL")
        #expect(moor_spec_caps(&opt) == cap("CAP_KILL"))
        opt = moor_spec_options_t()
        opt.cap_add = cap("CAP_NET_ADMIN")
        opt.cap_drop = cap("CAP_NET_ADMIN")
        #expect(moor_spec_caps(&opt) & cap("CAP_NET_ADMIN") != 0, "an added cap wins over its drop")
    }

    @Test func noSeccompKeepsTheRestOfTheConfinement() {
        var opt = moor_spec_options_t()
        opt.no_seccomp = true
        withSpec(opt) { cfg in
            #expect(!cfg.has_seccomp)
            #expect(cfg.process.caps.bounding == moor_caps_docker_default())
            #expect(cfg.n_masked_paths == dockerMasked.count && cfg.n_readonly_paths == dockerReadonly.count)
        }
    }

    @Test(arguments: [("NET_ADMIN", 12), ("net_admin", 12), ("CAP_NET_ADMIN", 12), ("cap_sys_admin", 21)])
    func capabilityFlagsTakeDockersSpellings(flag: String, expected: Int32) {
        #expect(moor_spec_cap_from_flag(flag) == expected)
    }

    @Test(arguments: ["BOGUS", "", "ALL", "CAP_"])
    func unknownCapabilityFlagIsRefused(flag: String) {
        #expect(moor_spec_cap_from_flag(flag) == -EINVAL)
    }
}
