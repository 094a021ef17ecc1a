import Foundation
import MoorPluginKit
import Testing
@testable import MoorEngine

/// What a container's Config and HostConfig become in its OCI spec.
struct SpecBuilderTests {
    func record(_ edit: (inout ContainerConfig, inout HostConfig) -> Void = { _, _ in }) -> ContainerRecord {
        var config = ContainerConfig()
        config.env = ["A=1", "PATH=/custom"]
        var host = HostConfig()
        edit(&config, &host)
        return ContainerRecord(
            id: String(repeating: "ab", count: 32), name: "c", createdNs: 1, imageReference: "busybox", imageID: "sha256:x",
            config: config, hostConfig: host, path: "sh", args: ["-c", "true"],
            settings: CreationSettings(storageDriver: "overlay2", dataRoot: "/d", daemonVersion: "t"),
            logDriver: "json-file", logOptions: [:], spoolMaxBytes: 1 << 20,
            network: NetworkAttachment(driver: "none", namespace: .new),
            rootfs: RootfsInfo(driver: "overlay2", lowerDirs: ["/l"], upperDir: "/u", workDir: "/w", mountPoint: "/m"),
            directory: "/d/c")
    }

    let base = Data("""
        {"ociVersion":"1.0.2","process":{"args":["sh"],"env":[],"cwd":"/","rlimits":[]},
         "mounts":[{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["size=65536k"]}],
         "linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
        """.utf8)

    func build(_ r: ContainerRecord, user: ResolvedUser = ResolvedUser(uid: 0, gid: 0, additionalGids: []),
               base: Data? = nil) throws -> [String: Any] {
        let data = try SpecBuilder(record: r, security: try SecurityOptions(r.hostConfig.securityOpt ?? []), user: user,
                                   hostnamePath: "/h", hostsPath: "/hs", resolvConfPath: "/r").build(base: base ?? self.base)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func processGetsCommandEnvironmentUserAndNoRlimitsUnlessAsked() throws {
        let spec = try build(record(), user: ResolvedUser(uid: 5, gid: 6, additionalGids: [7]))
        let process = try #require(spec["process"] as? [String: Any])
        #expect(process["args"] as? [String] == ["sh", "-c", "true"])
        let env = try #require(process["env"] as? [String])
        #expect(env.contains("A=1") && env.contains("PATH=/custom") && !env.contains { $0.hasPrefix("PATH=/usr") })
        #expect(env.contains("HOSTNAME=abababababab"))
        let user = try #require(process["user"] as? [String: Any])
        #expect(user["uid"] as? Int == 5 && user["gid"] as? Int == 6 && user["additionalGids"] as? [Int] == [7])
        #expect(process["rlimits"] == nil)
    }

    @Test func aCustomSeccompProfileIsFilteredByTheContainersCapabilities() throws {
        let profile = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":["#
            + #"{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13},"#
            + #"{"names":["chroot"],"action":"SCMP_ACT_ERRNO","excludes":{"caps":["CAP_SYS_CHROOT"]}},"#
            + #"{"names":["swapon"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_SYS_ADMIN"]}}]}"#
        let withCaps = Data(String(decoding: base, as: UTF8.self).replacingOccurrences(
            of: #""rlimits":[]"#, with: #""rlimits":[],"capabilities":{"bounding":["CAP_SYS_CHROOT","CAP_KILL"]}"#).utf8)
        let spec = try build(record { _, host in host.securityOpt = ["seccomp=" + profile, "no-new-privileges"] }, base: withCaps)
        let seccomp = try #require((spec["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        #expect(seccomp["defaultAction"] as? String == "SCMP_ACT_ALLOW")
        let rules = try #require(seccomp["syscalls"] as? [[String: Any]])
        #expect(rules.map { $0["names"] as? [String] ?? [] } == [["mkdir", "mkdirat"]])
        #expect(rules.first?["errnoRet"] as? Int == 13)
        #expect((spec["process"] as? [String: Any])?["noNewPrivileges"] as? Bool == true)

        let privileged = try build(record { _, host in
            host.securityOpt = ["seccomp=" + profile]
            host.privileged = true
        }, base: withCaps)
        #expect((privileged["linux"] as? [String: Any])?["seccomp"] == nil)
    }

    @Test func resourcesFollowDockerRules() throws {
        let spec = try build(record { _, h in
            h.memory = 32 << 20
            h.nanoCpus = 1_500_000_000
            h.pidsLimit = 20
            h.cpusetCpus = "0"
        })
        let resources = try #require((spec["linux"] as? [String: Any])?["resources"] as? [String: Any])
        let memory = try #require(resources["memory"] as? [String: Any])
        #expect(memory["limit"] as? Int == 32 << 20)
        #expect(memory["swap"] as? Int == 64 << 20, "MemorySwap 0 means twice the memory, as Docker")
        let cpu = try #require(resources["cpu"] as? [String: Any])
        #expect(cpu["quota"] as? Int == 150_000 && cpu["period"] as? Int == 100_000 && cpu["cpus"] as? String == "0")
        #expect((resources["pids"] as? [String: Any])?["limit"] as? Int == 20)
    }

    @Test func hostNetworkDropsTheNamespaceAndBindsAreAdded() throws {
        var r = record { _, h in
            h.binds = ["/src:/dst:ro"]
            h.tmpfs = ["/t": "size=1m"]
        }
        r.network = NetworkAttachment(driver: "host", namespace: .host)
        let spec = try build(r)
        let namespaces = try #require((spec["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]])
        #expect(!namespaces.contains { $0["type"] as? String == "network" })
        let mounts = try #require(spec["mounts"] as? [[String: Any]])
        let bind = try #require(mounts.first { $0["destination"] as? String == "/dst" })
        #expect(bind["source"] as? String == "/src" && (bind["options"] as? [String])?.contains("ro") == true)
        #expect(mounts.contains { $0["destination"] as? String == "/t" && $0["type"] as? String == "tmpfs" })
        #expect(mounts.contains { $0["destination"] as? String == "/etc/hosts" })
    }

    @Test(arguments: ["vol:/data", "/a", "/a:b", "/a:/b:bogus"])
    func badBindsAreRefusedNamingTheSpec(_ text: String) {
        #expect { try BindSpec(text) } throws: { "\($0)".contains(text) }
    }
}
