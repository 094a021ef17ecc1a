import Foundation
import Testing
@testable import MoorShimClient

/// Docker's default confinement: capabilities, seccomp, masked and read-only
/// paths; and the cgroup limits (memory with OOM, pids).
@Suite(.serialized) struct ShimConfinementTests {
    private func run(_ script: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> (ShimProcessState, String) {
        let c = try TestContainer(["sh", "-c", script], edit: edit)
        defer { c.remove() }
        try c.start()
        let state = try c.waitExit()
        return (state, try c.output())
    }

    private static func withoutSeccomp(_ spec: inout [String: Any]) {
        var linux = spec["linux"] as? [String: Any] ?? [:]
        linux.removeValue(forKey: "seccomp")
        spec["linux"] = linux
    }

    @Test func boundingSetIsDockersDefault() throws {
        let (_, out) = try run("grep CapBnd /proc/self/status")
        // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
        // NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
        #expect(out.contains("00000000a80425fb"), "\(out)")
    }

    @Test func mountFailsWithoutCapSysAdminEvenWithoutSeccomp() throws {
        let (state, out) = try run("mkdir -p /mnt/x; mount -t tmpfs none /mnt/x 2>&1; echo rc=$?", edit: Self.withoutSeccomp)
        #expect(state.exitCode == 0)
        #expect(out.contains("rc=") && !out.contains("rc=0"), "\(out)")
    }

    @Test func seccompRefusesUserNamespaces() throws {
        let (_, out) = try run("unshare -U true 2>&1; echo rc=$?")
        #expect(!out.contains("rc=0"), "\(out)")
        #expect(out.lowercased().contains("operation not permitted"), "\(out)")
    }

    @Test func withoutSeccompUserNamespacesWork() throws {
        // The control for the test above: it is seccomp that refuses.
        let (_, out) = try run("unshare -U true 2>&1; echo rc=$?", edit: Self.withoutSeccomp)
        #expect(out.contains("rc=0"), "\(out)")
    }

    /// Docker's masked paths read as empty. /proc/kcore is the classic one,
    /// but kernels built without it have none (then it is skipped, as Docker
    /// does); /proc/timer_list is masked too and is never empty unmasked.
    @Test func procKcoreIsMasked() throws {
        let path = FileManager.default.fileExists(atPath: "/proc/kcore") ? "/proc/kcore" : "/proc/timer_list"
        #expect(try String(contentsOfFile: "/proc/timer_list", encoding: .utf8).count > 0 || path == "/proc/kcore")
        let (_, out) = try run("wc -c < \(path)")
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(path) is not masked: \(out)")
    }

    @Test func procSysIsReadOnly() throws {
        let (_, out) = try run("echo x > /proc/sys/kernel/hostname 2>&1; echo rc=$?")
        #expect(out.lowercased().contains("read-only"), "\(out)")
    }

    @Test func hostnameAndDevicesAreSetUp() throws {
        let (_, out) = try run("hostname; test -c /dev/null && test -c /dev/urandom && echo devs; mount | grep -c ' /dev/pts '")
        #expect(out.hasPrefix("moor\n"))
        #expect(out.contains("devs"))
    }

    @Test func memoryLimitOOMKillIsRecorded() throws {
        let c = try TestContainer(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1"]) { spec in
            var linux = spec["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["memory": ["limit": 32 << 20, "swap": 32 << 20]]
            spec["linux"] = linux
        }
        defer { c.remove() }
        try c.start()
        let state = try c.waitExit()
        #expect(state.oomKilled)
        #expect(state.exitCode == 137)
        #expect(try c.exitRecord().oomKilled)
    }

    @Test func pidsLimitIsEnforced() throws {
        let script = "i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done 2>&1; echo done"
        let c = try TestContainer(["sh", "-c", script]) { spec in
            var linux = spec["linux"] as? [String: Any] ?? [:]
            linux["resources"] = ["pids": ["limit": 8]]
            spec["linux"] = linux
        }
        defer { c.remove() }
        try c.start()
        let pidsMax = "/sys/fs/cgroup/pids" + c.cgroupParent + "/" + c.id + "/pids.max"
        #expect((try? String(contentsOfFile: pidsMax, encoding: .utf8))?.hasPrefix("8") == true)
        _ = try c.waitExit()
        #expect(try c.output().lowercased().contains("fork"), "forks beyond the limit fail")
    }
}
