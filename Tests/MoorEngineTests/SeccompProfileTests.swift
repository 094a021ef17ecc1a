import Foundation
import Testing
@testable import MoorEngine

/// Docker-format seccomp profiles: what dockerd refuses, and what reaches
/// the runtime spec for a given machine and capability set.
struct SeccompProfileTests {
    let amd64 = HostMachine(dockerArch: "amd64", kernel: KernelVersion("5.10.0-21-amd64")!)

    func names(_ spec: [String: Any]?) -> [[String]] {
        (spec?["syscalls"] as? [[String: Any]] ?? []).map { $0["names"] as? [String] ?? [] }
    }

    @Test func includesAndExcludesFollowArchitectureCapabilitiesAndKernel() throws {
        let profile = try SeccompProfile(json: """
            {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
             {"names":["read"],"action":"SCMP_ACT_ALLOW"},
             {"name":"write","action":"SCMP_ACT_ALLOW"},
             {"names":["arm-only"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
             {"names":["not-on-amd64"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["amd64"]}},
             {"names":["admin"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN","CAP_KILL"]}},
             {"names":["kill-only"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_KILL"]}},
             {"names":["unless-kill"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_KILL"]}},
             {"names":["new-kernel"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"5.11"}},
             {"names":["old-kernel"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.10"}},
             {"names":["kernel-ok"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}},
             {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}
            ]}
            """)
        let spec = try #require(profile.runtimeSpec(capabilities: ["CAP_KILL", "CAP_CHOWN"], machine: amd64))
        #expect(names(spec) == [["read"], ["write"], ["kill-only"], ["kernel-ok"], ["personality"]])
        #expect(spec["defaultErrnoRet"] as? UInt32 == 1)
        let args = try #require((spec["syscalls"] as? [[String: Any]])?.last?["args"] as? [[String: Any]])
        #expect(args.first?["op"] as? String == "SCMP_CMP_EQ" && args.first?["valueTwo"] as? UInt64 == 0)
        // The result is what the shim reads: JSON.
        _ = try JSONSerialization.data(withJSONObject: spec)
    }

    @Test func archMapGivesTheNativeArchitectureAndItsSubArchitectures() throws {
        let profile = try SeccompProfile(json: """
            {"defaultAction":"SCMP_ACT_ALLOW","archMap":[
             {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},
             {"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]}]}
            """)
        let spec = profile.runtimeSpec(capabilities: [], machine: amd64)
        #expect(spec?["architectures"] as? [String] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    }

    @Test func anEmptyProfileMeansNoFilter() throws {
        #expect(try SeccompProfile(json: "{}").runtimeSpec(capabilities: [], machine: amd64) == nil)
    }

    @Test(arguments: [
        ("not json", "Decoding seccomp profile failed: not valid JSON"),
        (#"{"defaultAction":7}"#, "Decoding seccomp profile failed: defaultAction: expected String"),
        (#"{"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#, "defaultAction is missing"),
        (#"{"defaultAction":"SCMP_ACT_NOPE"}"#, #"defaultAction: "SCMP_ACT_NOPE" is not a seccomp action"#),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_NOTIFY"}]}"#,
         #"syscalls[0].action: "SCMP_ACT_NOTIFY" is not supported by moor"#),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_ALLOW"}]}"#,
         "syscalls[0]: 'name' and 'names' were specified"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86"}]}"#,
         "'architectures' and 'archMap' were specified"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
         "syscalls[0].args[0]: index 6 out of range"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#,
         #"syscalls[0].args[0]: unknown operator "EQ""#),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"five"}}]}"#,
         #"syscalls[0].includes.minKernel: invalid kernel version "five""#),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]}"#, "flags"),
        (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"]}]}"#, "syscalls[0]: action is missing"),
    ])
    func badProfilesAreRefusedNamingTheProblem(_ json: String, _ message: String) {
        #expect { try SeccompProfile(json: json) } throws: { error in
            (error as? EngineError)?.httpStatus == 400 && "\(error)".contains(message)
        }
    }

    @Test func securityOptionsReadDockersSpellings() throws {
        #expect(try SecurityOptions(["seccomp=unconfined"]).seccomp == .unconfined)
        #expect(try SecurityOptions(["seccomp:unconfined"]).seccomp == .unconfined)
        #expect(try SecurityOptions(["seccomp=builtin"]).seccomp == .builtin)
        #expect(try SecurityOptions([]).seccomp == .builtin)
        let custom = try SecurityOptions([#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#])
        #expect(custom.seccomp == .custom(try SeccompProfile(json: #"{"defaultAction":"SCMP_ACT_ALLOW"}"#)))
        #expect(try SecurityOptions(["no-new-privileges"]).noNewPrivileges)
        #expect(try SecurityOptions(["no-new-privileges:true"]).noNewPrivileges)
        #expect(try !SecurityOptions(["no-new-privileges=false"]).noNewPrivileges)
        #expect(try SecurityOptions(["apparmor=unconfined", "label=disable"]) == SecurityOptions([]))
        for bad in ["no-new-privileges=maybe", "bogus", "apparmor=docker-default"] {
            #expect { try SecurityOptions([bad]) } throws: { "\($0)".contains(bad) }
        }
    }
}
