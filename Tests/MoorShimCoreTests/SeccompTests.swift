// Docker's default seccomp profile (seccomp-default.c): it parses as an OCI
// "seccomp" object, loads, and refuses what Docker refuses -- checked by
// loading it in a forked child and making the call (seccomp.c's probe).
import Foundation
import MoorShimCore
import Testing

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private func cap(_ name: String) -> UInt64 {
    let n = moor_cap_from_name(name)
    precondition(n >= 0, "unknown capability \(name)")
    return 1 << UInt64(n)
}

// Flag values from <sched.h> and <sys/socket.h>; not all are imported into Swift.
private let CLONE_NEWUSER: UInt = 0x1000_0000
private let CLONE_NEWNS: UInt = 0x0002_0000
private let SIGCHLD_FLAG: UInt = 17
private let AF_VSOCK_FAMILY: UInt = 40

/// The profile's JSON for `caps`, or nil (and a recorded issue).
private func profileJSON(caps: UInt64) -> String? {
    var out: UnsafeMutablePointer<CChar>?
    var err = moor_err_t()
    let rc = moor_seccomp_default_json(caps, &out, &err)
    #expect(rc == 0, "moor_seccomp_default_json: \(message(err))")
    guard rc == 0, let out else { return nil }
    defer { free(out) }
    return String(cString: out)
}

/// The profile parsed by the config parser, inside a minimal config.json.
private func withProfile(caps: UInt64, _ body: (inout moor_seccomp_t) -> Void) {
    guard let profile = profileJSON(caps: caps) else { return }
    let json = #"{"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "#
        + #""root": {"path": "rootfs"}, "linux": {"seccomp": \#(profile)}}"#
    var cfg = moor_config_t()
    var err = moor_err_t()
    let rc = json.withCString { moor_config_parse($0, strlen($0), &cfg, &err) }
    defer { moor_config_free(&cfg) }
    #expect(rc == 0, "the profile does not parse: \(message(err))")
    #expect(cfg.has_seccomp)
    if rc == 0 { body(&cfg.seccomp) }
}

/// errno of `name(args)` under the profile in a forked child (0 = it worked).
private func probe(_ profile: inout moor_seccomp_t, _ name: String, _ args: [UInt] = []) -> Int32? {
    let six = (args + Array(repeating: 0, count: 6)).prefix(6).map { $0 }
    var got: Int32 = -1
    var err = moor_err_t()
    let rc = six.withUnsafeBufferPointer { moor_seccomp_selftest_in_child(&profile, name, $0.baseAddress, &got, &err) }
    #expect(rc == 0, "probe \(name): \(message(err))")
    return rc == 0 ? got : nil
}

/// Names of the rules that allow a call whatever its arguments.
private func unconditionallyAllowed(_ p: moor_seccomp_t) -> Set<String> {
    var names = Set<String>()
    for i in 0..<p.n_rules {
        let r = p.rules[i]
        guard r.action == MOOR_SECCOMP_ALLOW, r.n_args == 0 else { continue }
        for j in 0..<r.n_names { names.insert(String(cString: r.names[j]!)) }
    }
    return names
}

@Suite("Docker's default seccomp profile")
struct SeccompTests {
    let docker = moor_caps_docker_default()

    @Test func profileIsAnErrnoAllowList() {
        withProfile(caps: docker) { p in
            #expect(p.default_action == MOOR_SECCOMP_ERRNO)
            #expect(p.has_default_errno_ret && p.default_errno_ret == UInt32(EPERM))
            let arches = (0..<p.n_architectures).map { String(cString: p.architectures[$0]!) }
            #if arch(x86_64)
            #expect(arches == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
            #elseif arch(arm64)
            #expect(arches == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
            #endif
            let allowed = unconditionallyAllowed(p)
            for name in ["read", "write", "execve", "getpid", "openat", "futex", "chroot", "wait4"] {
                #expect(allowed.contains(name), "\(name) should be allowed")
            }
        }
    }

    /// Docker's documentation lists these as blocked by default.
    @Test(arguments: [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "clone", "create_module",
        "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
        "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
        "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
        "perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev",
        "ptrace", "query_module", "quotactl", "reboot", "request_key", "set_mempolicy", "setns",
        "settimeofday", "stime", "swapon", "swapoff", "sysfs", "_sysctl", "umount", "umount2",
        "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
    ])
    func documentedBlockedCallIsNotAllowedOutright(name: String) {
        withProfile(caps: docker) { p in
            #expect(!unconditionallyAllowed(p).contains(name))
        }
    }

    @Test(arguments: [
        ("unshare", [CLONE_NEWUSER]),
        ("mount", []),
        ("umount2", []),
        ("setns", []),
        ("keyctl", []),
        ("add_key", []),
        ("bpf", []),
        // Bogus flags: were the call let through, the kernel would say EINVAL.
        ("kexec_load", [0, 0, 0, 0xdead_0000]),
        ("init_module", []),
        ("clone", [CLONE_NEWUSER | SIGCHLD_FLAG]),
        ("clone", [CLONE_NEWNS | SIGCHLD_FLAG]),
        ("personality", [0x1]),
        ("socket", [AF_VSOCK_FAMILY, 1]),
    ] as [(String, [UInt])])
    func refusedWithEPERM(name: String, args: [UInt]) {
        withProfile(caps: docker) { p in
            #expect(probe(&p, name, args) == EPERM, "\(name)(\(args))")
        }
    }

    @Test func ordinaryCallsWork() {
        withProfile(caps: docker) { p in
            #expect(probe(&p, "getpid") == 0)
            // A plain fork: the copy reports too and exits at once.
            #expect(probe(&p, "clone", [SIGCHLD_FLAG]) == 0)
            #expect(probe(&p, "personality", [0xffff_ffff]) == 0)
            #expect(probe(&p, "socket", [UInt(AF_UNIX), 1]) == 0)
        }
    }

    @Test func clone3SaysENOSYSSoLibcFallsBackToClone() {
        withProfile(caps: docker) { p in
            #expect(probe(&p, "clone3") == ENOSYS)
        }
    }

    @Test func capSysAdminOpensNamespacesAndMounts() {
        withProfile(caps: docker | cap("CAP_SYS_ADMIN")) { p in
            // The probe runs as root in a throw-away child: these succeed or fail in the kernel.
            #expect(probe(&p, "unshare", [CLONE_NEWUSER]) == 0)
            #expect(probe(&p, "mount") != EPERM)
            #expect(probe(&p, "clone3") != ENOSYS)
            let allowed = unconditionallyAllowed(p)
            for name in ["mount", "umount2", "unshare", "setns", "clone", "clone3"] {
                #expect(allowed.contains(name), "\(name) with CAP_SYS_ADMIN")
            }
        }
    }

    @Test(arguments: [
        ("CAP_SYS_PTRACE", ["ptrace", "process_vm_readv", "kcmp"]),
        ("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_TIME", ["settimeofday", "clock_settime", "clock_adjtime"]),
        ("CAP_SYS_NICE", ["mbind", "set_mempolicy", "move_pages"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
    ])
    func capabilityAllowsTheCallsItGoverns(capName: String, calls: [String]) {
        withProfile(caps: docker) { p in
            let without = unconditionallyAllowed(p)
            for name in calls { #expect(!without.contains(name), "\(name) without \(capName)") }
        }
        withProfile(caps: docker | cap(capName)) { p in
            let with = unconditionallyAllowed(p)
            for name in calls { #expect(with.contains(name), "\(name) with \(capName)") }
        }
    }

    @Test func droppingSysChrootTakesChrootAway() {
        withProfile(caps: docker & ~cap("CAP_SYS_CHROOT")) { p in
            #expect(!unconditionallyAllowed(p).contains("chroot"))
            #expect(probe(&p, "chroot", [0]) == EPERM)
        }
    }

    @Test func keyringsStayBlockedEvenWithEveryCapability() {
        withProfile(caps: ~0) { p in
            let allowed = unconditionallyAllowed(p)
            for name in ["keyctl", "add_key", "request_key", "kexec_load", "uselib", "vm86"] {
                #expect(!allowed.contains(name), "\(name)")
            }
            // A call named under two capabilities is listed once.
            let bpfRules = (0..<p.n_rules).flatMap { i in
                (0..<p.rules[i].n_names).map { String(cString: p.rules[i].names[$0]!) }
            }.filter { $0 == "bpf" }
            #expect(bpfRules.count == 1)
        }
    }
}
