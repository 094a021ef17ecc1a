// Unit tests of the shim's OCI config.json parser (config*.c) and the
// capability name table (caps.c), called directly through MoorShimCore.
import Foundation
import MoorShimCore
import Testing

// MARK: - Helpers

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private func string(_ p: UnsafeMutablePointer<CChar>?) -> String? {
    p.map { String(cString: $0) }
}

private func strings(_ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
    guard let v else { return [] }
    return (0..<n).map { string(v[$0]) ?? "<null>" }
}

private func bit(_ cap: Int32) -> UInt64 { 1 << UInt64(cap) }

/// A config.json with the given process and root bodies plus extra top-level members.
private func config(
    process: String = #""args": ["/bin/sh"], "cwd": "/""#,
    root: String = #""path": "rootfs""#,
    rest: String = ""
) -> String {
    #"{"ociVersion": "1.0.2", "process": {\#(process)}, "root": {\#(root)}\#(rest)}"#
}

/// A config.json whose "linux" object has the given body.
private func linuxConfig(_ body: String) -> String {
    config(rest: #", "linux": {\#(body)}"#)
}

/// Parses `json` expecting success, hands the config to `body`, then frees it.
private func withParsedConfig(_ json: String, _ body: (moor_config_t) -> Void) {
    var cfg = moor_config_t()
    var err = moor_err_t()
    let rc = json.withCString { moor_config_parse($0, strlen($0), &cfg, &err) }
    defer { moor_config_free(&cfg) }
    #expect(rc == 0, "parse failed: \(message(err))")
    if rc == 0 {
        body(cfg)
    }
}

private struct Failure {
    var rc: Int32
    var code: Int32
    var message: String
    var leftZeroed: Bool
}

/// Parses `json` expecting failure; nil (and a recorded issue) if it parsed.
private func parseFailure(_ json: String) -> Failure? {
    var cfg = moor_config_t()
    var err = moor_err_t()
    let rc = json.withCString { moor_config_parse($0, strlen($0), &cfg, &err) }
    let zeroed = withUnsafeBytes(of: &cfg) { $0.allSatisfy { $0 == 0 } }
    if rc == 0 {
        moor_config_free(&cfg)
        Issue.record("expected an error, but this parsed: \(json)")
        return nil
    }
    return Failure(rc: rc, code: err.code, message: message(err), leftZeroed: zeroed)
}

/// Expects `json` to be refused with `code` and a message containing `fragment`.
private func expectRefused(
    _ json: String, code: Int32 = EINVAL, naming fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let failure = parseFailure(json) else { return }
    #expect(failure.rc == -code, sourceLocation: sourceLocation)
    #expect(failure.code == code, sourceLocation: sourceLocation)
    #expect(failure.message.contains(fragment), "message: \(failure.message)",
            sourceLocation: sourceLocation)
    #expect(failure.message.hasPrefix("config.json: "), "message: \(failure.message)",
            sourceLocation: sourceLocation)
    #expect(failure.leftZeroed, "the output config was not left zeroed",
            sourceLocation: sourceLocation)
}

private let fullConfig = #"""
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 18},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/bin:/bin", "HOME=/root", "EMPTY="],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_NET_ADMIN", "cap_kill"],
      "effective": ["CAP_NET_ADMIN"],
      "inheritable": [],
      "permitted": ["CAP_CHOWN", "CAP_NET_ADMIN"],
      "ambient": ["CAP_NET_ADMIN"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "oomScoreAdj": -500,
    "apparmorProfile": "docker-default"
  },
  "root": {"path": "/var/lib/moor/rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec"]},
    {"destination": "/dev", "type": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/data", "type": "none", "source": "/srv/data", "options": ["rbind", "ro"]}
  ],
  "hooks": {"prestart": []},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/proc/42/ns/net"}, {"type": "mount"},
      {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}
    ],
    "uidMappings": [],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 536870912, "swap": -1},
      "pids": {"limit": 100},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"}
    },
    "cgroupsPath": "/moor/abc",
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1024"},
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys"],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
          {"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"},
          {"index": 1, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}
        ]},
        {"names": ["ptrace"], "action": "SCMP_ACT_KILL_THREAD", "errnoRet": 38}
      ]
    }
  }
}
"""#

// MARK: - Valid configs

@Suite("OCI config.json parsing")
struct ConfigTests {
    @Test func fullConfigLandsEveryProcessField() {
        withParsedConfig(fullConfig) { cfg in
            #expect(string(cfg.oci_version) == "1.2.0")
            let p = cfg.process
            #expect(strings(p.args, p.n_args) == ["/bin/sh", "-c", "echo hi"])
            #expect(p.args[p.n_args] == nil, "args must be NULL-terminated for execvp")
            #expect(strings(p.env, p.n_env) == ["PATH=/usr/bin:/bin", "HOME=/root", "EMPTY="])
            #expect(p.env[p.n_env] == nil, "env must be NULL-terminated for environ")
            #expect(string(p.cwd) == "/work")
            #expect(p.uid == 1000 && p.gid == 1001)
            let gids = (0..<p.n_additional_gids).map { p.additional_gids[$0] }
            #expect(gids == [10, 20])
            #expect(p.terminal)
            #expect(p.console_rows == 24 && p.console_cols == 80)
            #expect(p.no_new_privileges)
            #expect(p.has_oom_score_adj && p.oom_score_adj == -500)
        }
    }

    @Test func capabilityNamesBecomeBitmasks() {
        withParsedConfig(fullConfig) { cfg in
            let caps = cfg.process.caps
            #expect(caps.present)
            #expect(caps.bounding == bit(0) | bit(12) | bit(5), "CAP_CHOWN, CAP_NET_ADMIN, CAP_KILL")
            #expect(caps.effective == 1 << 12, "CAP_NET_ADMIN is bit 12")
            #expect(caps.inheritable == 0)
            #expect(caps.permitted == bit(0) | bit(12))
            #expect(caps.ambient == bit(12))
        }
    }

    @Test func rlimitsKeepTypeAndFullUnsignedRange() {
        withParsedConfig(fullConfig) { cfg in
            let p = cfg.process
            #expect(p.n_rlimits == 2)
            guard p.n_rlimits == 2 else { return }
            #expect(p.rlimits[0].resource == 7, "RLIMIT_NOFILE")
            #expect(p.rlimits[0].hard == 4096 && p.rlimits[0].soft == 1024)
            #expect(p.rlimits[1].resource == 4, "RLIMIT_CORE")
            #expect(p.rlimits[1].hard == UInt64.max && p.rlimits[1].soft == 0)
        }
    }

    @Test func rootHostnameAndMountsLand() {
        withParsedConfig(fullConfig) { cfg in
            #expect(string(cfg.root_path) == "/var/lib/moor/rootfs")
            #expect(cfg.root_readonly)
            #expect(string(cfg.hostname) == "box")
            #expect(cfg.n_mounts == 3)
            guard cfg.n_mounts == 3 else { return }
            let proc = cfg.mounts[0], dev = cfg.mounts[1], data = cfg.mounts[2]
            #expect(string(proc.destination) == "/proc" && string(proc.type) == "proc")
            #expect(strings(proc.options, proc.n_options) == ["nosuid", "noexec"])
            #expect(string(dev.type) == "tmpfs")
            #expect(string(dev.source) == "tmpfs", "a filesystem without source gets its type")
            #expect(string(data.type) == "bind", "\"none\" with rbind is a bind mount")
            #expect(string(data.source) == "/srv/data")
            #expect(strings(data.options, data.n_options) == ["rbind", "ro"])
        }
    }

    @Test func namespacesKeepOrderAndJoinPaths() {
        withParsedConfig(fullConfig) { cfg in
            #expect(cfg.n_namespaces == 6)
            guard cfg.n_namespaces == 6 else { return }
            #expect(cfg.namespaces[0].type == MOOR_NS_PID && cfg.namespaces[0].path == nil)
            #expect(cfg.namespaces[1].type == MOOR_NS_NET)
            #expect(string(cfg.namespaces[1].path) == "/proc/42/ns/net")
            var c = cfg
            let net = moor_config_namespace(&c, MOOR_NS_NET)
            #expect(net.map { string($0.pointee.path) } == "/proc/42/ns/net")
            #expect(moor_config_namespace(&c, MOOR_NS_CGROUP) != nil)
        }
    }

    @Test func resourcesPathsSysctlAndCgroupsPathLand() {
        withParsedConfig(fullConfig) { cfg in
            let r = cfg.resources
            #expect(r.has_memory_limit && r.memory_limit == 536_870_912)
            #expect(r.has_memory_swap && r.memory_swap == -1)
            #expect(r.has_pids_limit && r.pids_limit == 100)
            #expect(r.has_cpu_shares && r.cpu_shares == 512)
            #expect(r.has_cpu_quota && r.cpu_quota == 50000)
            #expect(r.has_cpu_period && r.cpu_period == 100_000)
            #expect(string(r.cpuset_cpus) == "0-1" && string(r.cpuset_mems) == "0")
            #expect(strings(cfg.masked_paths, cfg.n_masked_paths) == ["/proc/kcore", "/proc/keys"])
            #expect(strings(cfg.readonly_paths, cfg.n_readonly_paths) == ["/proc/sys"])
            #expect(string(cfg.cgroups_path) == "/moor/abc")
            let sysctls = (0..<cfg.n_sysctls).map {
                (string(cfg.sysctls[$0].key) ?? "", string(cfg.sysctls[$0].value) ?? "")
            }
            #expect(sysctls.count == 2)
            #expect(sysctls.contains { $0 == ("net.ipv4.ip_forward", "1") })
            #expect(sysctls.contains { $0 == ("kernel.shmmax", "1024") })
        }
    }

    @Test func seccompRulesAndArgumentsLand() {
        withParsedConfig(fullConfig) { cfg in
            #expect(cfg.has_seccomp)
            let s = cfg.seccomp
            #expect(s.default_action == MOOR_SECCOMP_ERRNO)
            #expect(s.has_default_errno_ret && s.default_errno_ret == 1)
            #expect(strings(s.architectures, s.n_architectures) == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
            #expect(s.n_rules == 3)
            guard s.n_rules == 3 else { return }
            let rw = s.rules[0], personality = s.rules[1], ptrace = s.rules[2]
            #expect(strings(rw.names, rw.n_names) == ["read", "write"])
            #expect(rw.action == MOOR_SECCOMP_ALLOW && !rw.has_errno_ret && rw.n_args == 0)
            #expect(personality.n_args == 2)
            if personality.n_args == 2 {
                let a0 = personality.args[0], a1 = personality.args[1]
                #expect(a0.index == 0 && a0.value == 131_080 && a0.value_two == 0)
                #expect(a0.op == MOOR_SECCOMP_OP_EQ)
                #expect(a1.index == 1 && a1.value == 255 && a1.value_two == 8)
                #expect(a1.op == MOOR_SECCOMP_OP_MASKED_EQ)
            }
            #expect(ptrace.action == MOOR_SECCOMP_KILL, "SCMP_ACT_KILL_THREAD is KILL")
            #expect(ptrace.has_errno_ret && ptrace.errno_ret == 38)
        }
    }

    @Test func minimalConfigLeavesOptionalFieldsAbsent() {
        withParsedConfig(config()) { cfg in
            #expect(strings(cfg.process.args, cfg.process.n_args) == ["/bin/sh"])
            #expect(cfg.process.n_env == 0 && cfg.process.uid == 0 && cfg.process.gid == 0)
            #expect(!cfg.process.caps.present && !cfg.process.has_oom_score_adj)
            #expect(string(cfg.root_path) == "rootfs", "parse keeps a relative root.path as is")
            #expect(!cfg.root_readonly && cfg.hostname == nil && cfg.cgroups_path == nil)
            #expect(cfg.n_mounts == 0 && cfg.n_namespaces == 0 && !cfg.has_seccomp)
            #expect(!cfg.resources.has_memory_limit && !cfg.resources.has_pids_limit)
        }
    }

    @Test func nullValuesAreTreatedAsAbsent() {
        let json = config(
            process: #""args": ["sh"], "cwd": "/", "env": null, "capabilities": null"#,
            rest: #", "hostname": null, "linux": {"seccomp": null, "resources": {"memory": {"limit": null}}}"#)
        withParsedConfig(json) { cfg in
            #expect(cfg.process.n_env == 0 && !cfg.process.caps.present)
            #expect(cfg.hostname == nil && !cfg.has_seccomp && !cfg.resources.has_memory_limit)
        }
    }

    @Test func unknownKeysAreIgnored() {
        let json = config(
            process: #""args": ["sh"], "cwd": "/", "selinuxLabel": 5, "future": {"x": [1]}"#,
            rest: #", "annotations": {"a": "b"}, "linux": {"intelRdt": {}, "personality": 3}"#)
        withParsedConfig(json) { cfg in
            #expect(strings(cfg.process.args, cfg.process.n_args) == ["sh"])
        }
    }

    @Test func emptyCapabilitiesObjectMeansNoCapabilities() {
        withParsedConfig(config(process: #""args": ["sh"], "cwd": "/", "capabilities": {}"#)) { cfg in
            let caps = cfg.process.caps
            #expect(caps.present)
            #expect(caps.bounding == 0 && caps.effective == 0 && caps.permitted == 0)
        }
    }

    // MARK: - Invalid configs: each error names the JSON path

    @Test func malformedJSONReportsTheTokenerErrorAndPosition() {
        guard let f = parseFailure("{\"process\": {\n  \"args\": [\"sh\",],\n}}") else { return }
        #expect(f.code == EINVAL)
        #expect(f.message.hasPrefix("config.json: invalid JSON at line 2"), "message: \(f.message)")
        #expect(f.message.contains("unexpected character"), "message: \(f.message)")
        #expect(f.leftZeroed)
    }

    @Test func truncatedJSONReportsUnexpectedEnd() {
        expectRefused(#"{"process": {"args": ["sh"]"#, naming: "unexpected end of input")
    }

    @Test func nonObjectDocumentIsRefused() {
        expectRefused(#"["not", "an", "object"]"#, naming: "expected a JSON object")
    }

    @Test func wrongTypeNamesTheField() {
        expectRefused(linuxConfig(#""resources": {"memory": {"limit": "1g"}}"#),
                      naming: "linux.resources.memory.limit: expected an integer")
        expectRefused(config(process: #""args": "sh", "cwd": "/""#),
                      naming: "process.args: expected an array")
        expectRefused(config(process: #""args": ["sh", 3], "cwd": "/""#),
                      naming: "process.args[1]: expected a string")
        expectRefused(config(process: #""args": ["sh"], "cwd": "/", "terminal": "yes""#),
                      naming: "process.terminal: expected a boolean")
        expectRefused(linuxConfig(#""resources": {"cpu": {"shares": 1.5}}"#),
                      naming: "linux.resources.cpu.shares: expected an integer")
        expectRefused(config(rest: #", "linux": []"#), naming: "linux: expected an object")
    }

    @Test func unknownCapabilityNamesItsIndex() {
        let json = config(process: #"""
            "args": ["sh"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_FOO"]}
            """#)
        expectRefused(json, naming: #"process.capabilities.bounding[3]: unknown capability "CAP_FOO""#)
    }

    @Test func relativeMountDestinationIsRefused() {
        expectRefused(config(rest: #", "mounts": [{"destination": "data", "type": "tmpfs"}]"#),
                      naming: #"mounts[0].destination: expected an absolute path, got "data""#)
    }

    @Test func userNamespaceIsUnsupported() {
        expectRefused(linuxConfig(#""namespaces": [{"type": "pid"}, {"type": "user"}]"#),
                      code: ENOTSUP, naming: "linux.namespaces[1].type: user namespaces are not supported")
    }

    @Test func unknownSeccompActionIsRefused() {
        let json = linuxConfig(#"""
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
                        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}
            """#)
        expectRefused(json, naming: #"linux.seccomp.syscalls[0].action: unknown seccomp action "SCMP_ACT_MAYBE""#)
    }

    @Test func missingProcessArgsIsRefused() {
        expectRefused(config(process: #""cwd": "/""#), naming: "process.args: required")
        expectRefused(config(process: #""args": [], "cwd": "/""#), naming: "process.args: required")
    }

    @Test func missingRootPathIsRefused() {
        expectRefused(config(root: #""readonly": true"#), naming: "root.path: required")
        expectRefused(#"{"process": {"args": ["sh"], "cwd": "/"}}"#, naming: "root: required")
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var json: String
        var fragment: String
        var code: Int32 = EINVAL
        var testDescription: String { fragment }
    }

    static let invalidValues: [InvalidCase] = [
        .init(json: config(process: #""args": ["sh"], "cwd": "work""#),
              fragment: "process.cwd: expected an absolute path"),
        .init(json: config(process: #""args": ["sh"]"#), fragment: "process.cwd: required"),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "user": {"uid": -1}"#),
              fragment: "process.user.uid: expected a non-negative integer"),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "user": {"additionalGids": [1, "x"]}"#),
              fragment: "process.user.additionalGids[1]: expected an integer"),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "env": ["NOEQUALS"]"#),
              fragment: #"process.env[0]: expected "NAME=value""#),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "oomScoreAdj": 2000"#),
              fragment: "process.oomScoreAdj: 2000 is out of range"),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_FOO", "hard": 1, "soft": 1}]"#),
              fragment: #"process.rlimits[0].type: unknown rlimit "RLIMIT_FOO""#),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}]"#),
              fragment: "process.rlimits[0].hard: required"),
        .init(json: config(process: #""args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}]"#),
              fragment: "process.rlimits[0]: soft limit 2 exceeds hard limit 1"),
        .init(json: config(rest: #", "mounts": [{"destination": "/x", "type": "overlay"}]"#),
              fragment: #"mounts[0].type: unsupported mount type "overlay""#),
        .init(json: config(rest: #", "mounts": [{"destination": "/x", "type": "bind", "options": ["rbind"]}]"#),
              fragment: "mounts[0].source: required"),
        .init(json: linuxConfig(#""namespaces": [{"type": "pidd"}]"#),
              fragment: #"linux.namespaces[0].type: unknown namespace type "pidd""#),
        .init(json: linuxConfig(#""namespaces": [{"type": "pid"}, {"type": "pid"}]"#),
              fragment: #"linux.namespaces[1]: duplicate namespace type "pid""#),
        .init(json: linuxConfig(#""namespaces": [{"type": "time"}]"#),
              fragment: "linux.namespaces[0].type: time namespaces are not supported", code: ENOTSUP),
        .init(json: linuxConfig(#""uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]"#),
              fragment: "linux.uidMappings: user namespace id mappings are not supported", code: ENOTSUP),
        .init(json: linuxConfig(#""seccomp": {"syscalls": []}"#),
              fragment: "linux.seccomp.defaultAction: required"),
        .init(json: linuxConfig(#""seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#),
              fragment: "linux.seccomp.syscalls[0].args[0].index: syscall argument index 6 out of range"),
        .init(json: linuxConfig(#""seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_LIKE"}]}]}"#),
              fragment: #"linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_LIKE""#),
        .init(json: linuxConfig(#""maskedPaths": ["/proc/kcore", "proc/keys"]"#),
              fragment: "linux.maskedPaths[1]: expected an absolute path"),
        .init(json: linuxConfig(#""sysctl": {"net.ipv4.ip_forward": 1}"#),
              fragment: "linux.sysctl.net.ipv4.ip_forward: expected a string"),
        .init(json: linuxConfig(#""resources": {"memory": {"limit": 9223372036854775808}}"#),
              fragment: "linux.resources.memory.limit: integer out of range"),
    ]

    @Test(arguments: invalidValues)
    func invalidValueIsRefusedNamingItsPath(_ c: InvalidCase) {
        expectRefused(c.json, code: c.code, naming: c.fragment)
    }

    // MARK: - Bare process objects (exec)

    @Test func bareProcessObjectParses() {
        let json = #"{"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=1"], "user": {"uid": 5, "gid": 6}}"#
        var proc = moor_process_t()
        var err = moor_err_t()
        let rc = json.withCString { moor_process_parse($0, strlen($0), &proc, &err) }
        defer { moor_process_free(&proc) }
        #expect(rc == 0, "\(message(err))")
        #expect(strings(proc.args, proc.n_args) == ["ls", "-l"])
        #expect(string(proc.cwd) == "/tmp" && proc.uid == 5 && proc.gid == 6)
    }

    @Test func bareProcessErrorsStartWithProcess() {
        let json = #"{"args": ["ls"], "cwd": "/", "rlimits": [{"type": 7}]}"#
        var proc = moor_process_t()
        var err = moor_err_t()
        let rc = json.withCString { moor_process_parse($0, strlen($0), &proc, &err) }
        #expect(rc == -EINVAL)
        #expect(message(err) == "process.rlimits[0].type: expected a string")
        #expect(proc.args == nil && proc.n_args == 0)
    }

    // MARK: - Loading from a bundle

    private func withBundle(_ json: String, _ body: (String) -> Void) throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("moor-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try json.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        body(dir.path)
    }

    @Test func loadMakesARelativeRootPathAbsolute() throws {
        try withBundle(config(root: #""path": "./rootfs""#)) { bundle in
            var cfg = moor_config_t()
            var err = moor_err_t()
            let rc = moor_config_load(bundle, &cfg, &err)
            defer { moor_config_free(&cfg) }
            #expect(rc == 0, "\(message(err))")
            #expect(string(cfg.root_path) == bundle + "/rootfs")
        }
    }

    @Test func loadErrorsNameTheConfigFile() throws {
        try withBundle(linuxConfig(#""resources": {"pids": {"limit": "many"}}"#)) { bundle in
            var cfg = moor_config_t()
            var err = moor_err_t()
            let rc = moor_config_load(bundle, &cfg, &err)
            #expect(rc == -EINVAL)
            #expect(message(err) == "\(bundle)/config.json: linux.resources.pids.limit: expected an integer")
        }
        var cfg = moor_config_t()
        var err = moor_err_t()
        #expect(moor_config_load("/nonexistent/moor-bundle", &cfg, &err) == -ENOENT)
        #expect(message(err).contains("/nonexistent/moor-bundle/config.json"))
    }

    // MARK: - Lookup helpers

    @Test func namespaceNamesAndCloneFlagsMatchTheKernel() {
        #expect(moor_ns_type_name(MOOR_NS_NET).map { String(cString: $0) } == "network")
        #expect(moor_ns_type_name(MOOR_NS_MOUNT).map { String(cString: $0) } == "mount")
        #expect(moor_ns_clone_flag(MOOR_NS_MOUNT) == 0x0002_0000)   // CLONE_NEWNS
        #expect(moor_ns_clone_flag(MOOR_NS_PID) == 0x2000_0000)     // CLONE_NEWPID
        #expect(moor_ns_clone_flag(MOOR_NS_NET) == 0x4000_0000)     // CLONE_NEWNET
        #expect(moor_ns_clone_flag(MOOR_NS_CGROUP) == 0x0200_0000)  // CLONE_NEWCGROUP
        #expect(moor_ns_type_name(MOOR_NS_COUNT) == nil)
    }

    @Test func getenvFindsTheFirstExactName() {
        let json = config(process: #""args": ["sh"], "cwd": "/", "env": ["PATHX=no", "PATH=/bin", "PATH=/late", "E="]"#)
        withParsedConfig(json) { cfg in
            var p = cfg.process
            #expect(moor_process_getenv(&p, "PATH").map { String(cString: $0) } == "/bin")
            #expect(moor_process_getenv(&p, "E").map { String(cString: $0) } == "")
            #expect(moor_process_getenv(&p, "HOME") == nil)
        }
    }
}

// MARK: - Capability names

@Suite("Capability names")
struct CapabilityNameTests {
    @Test(arguments: [
        ("CAP_NET_ADMIN", Int32(12)), ("CAP_CHOWN", 0), ("cap_sys_admin", 21), ("Cap_Kill", 5),
        ("CAP_AUDIT_WRITE", 29), ("CAP_CHECKPOINT_RESTORE", 40),
    ])
    func knownNamesMapToTheirNumberCaseInsensitively(name: String, number: Int32) {
        #expect(moor_cap_from_name(name) == number)
    }

    @Test(arguments: ["CAP_FOO", "NET_ADMIN", "", "12", "CAP_", "ALL"])
    func unknownNamesAreEINVAL(name: String) {
        #expect(moor_cap_from_name(name) == -EINVAL)
    }

    @Test func numbersMapBackToCanonicalNames() {
        #expect(moor_cap_name(12).map { String(cString: $0) } == "CAP_NET_ADMIN")
        #expect(moor_cap_name(0).map { String(cString: $0) } == "CAP_CHOWN")
        #expect(moor_cap_name(-1) == nil)
        #expect(moor_cap_name(64) == nil)
    }

    @Test func dockerDefaultSetHasItsFourteenCapabilities() {
        let mask = moor_caps_docker_default()
        #expect(mask.nonzeroBitCount == 14)
        #expect(mask & bit(13) != 0, "CAP_NET_RAW is in Docker's default set")
        #expect(mask & bit(29) != 0, "CAP_AUDIT_WRITE is in Docker's default set")
        #expect(mask & bit(12) == 0, "CAP_NET_ADMIN is not")
        #expect(mask & bit(21) == 0, "CAP_SYS_ADMIN is not")
    }
}
