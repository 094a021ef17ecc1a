import Foundation
import Glibc

/// A seccomp profile in Docker's format (what `--security-opt
/// seccomp=profile.json` sends), turned into the runtime spec's
/// `linux.seccomp` for the container's capabilities, architecture and
/// kernel, as dockerd does: a rule whose `includes` the container does not
/// meet, or whose `excludes` it meets, is left out. Everything that could
/// make the container fail to start is checked when the profile is read, so
/// a bad profile is refused at create, naming what is wrong.
struct SeccompProfile: Equatable, Decodable {
    struct ArchMap: Equatable, Decodable {
        var architecture: String
        var subArchitectures: [String]?
    }

    struct Filter: Equatable, Decodable {
        var arches: [String]?
        var caps: [String]?
        var minKernel: String?
    }

    struct Arg: Equatable, Decodable {
        var index: UInt32
        var value: UInt64
        var valueTwo: UInt64?
        var op: String
    }

    struct Syscall: Equatable, Decodable {
        var name: String?
        var names: [String]?
        var action: String
        var errnoRet: UInt32?
        var args: [Arg]?
        var includes: Filter?
        var excludes: Filter?
    }

    var defaultAction: String?
    var defaultErrnoRet: UInt32?
    var architectures: [String]?
    var archMap: [ArchMap]?
    var syscalls: [Syscall]?
    var flags: [String]?
    var listenerPath: String?

    /// The actions the shim applies (Docker's names).
    static let actions: Set<String> = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
    ]
    static let operators: Set<String> = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    ]

    init(json: String) throws {
        do {
            self = try JSONDecoder().decode(SeccompProfile.self, from: Data(json.utf8))
        } catch {
            throw EngineError.invalid("Decoding seccomp profile failed: \(Self.describe(error))")
        }
        try check()
    }

    /// No default action and no rule: dockerd takes it for no filter at all.
    var isEmpty: Bool { (defaultAction ?? "").isEmpty && (syscalls ?? []).isEmpty }

    private func check() throws {
        func fail(_ what: String) -> EngineError { EngineError.invalid("seccomp profile: \(what)") }
        if isEmpty { return }
        guard let defaultAction, !defaultAction.isEmpty else { throw fail("defaultAction is missing") }
        try Self.checkAction(defaultAction, field: "defaultAction")
        if !(architectures ?? []).isEmpty && !(archMap ?? []).isEmpty {
            throw fail("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'")
        }
        if let flags, !flags.isEmpty {
            throw fail("flags \(flags) are not supported by moor")
        }
        if let listenerPath, !listenerPath.isEmpty {
            throw fail("listenerPath (SCMP_ACT_NOTIFY) is not supported by moor")
        }
        for (number, call) in (syscalls ?? []).enumerated() {
            let field = "syscalls[\(number)]"
            if call.name.map({ !$0.isEmpty }) == true && !(call.names ?? []).isEmpty {
                throw fail("\(field): 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'")
            }
            try Self.checkAction(call.action, field: field + ".action")
            for (position, arg) in (call.args ?? []).enumerated() {
                guard arg.index <= 5 else {
                    throw fail("\(field).args[\(position)]: index \(arg.index) out of range (0 to 5)")
                }
                guard Self.operators.contains(arg.op) else {
                    throw fail("\(field).args[\(position)]: unknown operator \"\(arg.op)\"")
                }
            }
            for (filter, name) in [(call.includes, "includes"), (call.excludes, "excludes")] {
                if let minKernel = filter?.minKernel, !minKernel.isEmpty, KernelVersion(minKernel) == nil {
                    throw fail("\(field).\(name).minKernel: invalid kernel version \"\(minKernel)\"")
                }
            }
        }
    }

    private static func checkAction(_ action: String, field: String) throws {
        guard actions.contains(action) else {
            let reason = action == "SCMP_ACT_NOTIFY" ? "is not supported by moor" : "is not a seccomp action"
            throw EngineError.invalid("seccomp profile: \(field): \"\(action)\" \(reason)")
        }
    }

    /// The runtime spec's `linux.seccomp` for a container whose bounding
    /// capability set is `capabilities`, on this machine (`nil`: no filter).
    func runtimeSpec(capabilities: [String], machine: HostMachine = .current) -> [String: Any]? {
        guard !isEmpty, let defaultAction else { return nil }
        var spec: [String: Any] = ["defaultAction": defaultAction]
        if let defaultErrnoRet { spec["defaultErrnoRet"] = defaultErrnoRet }
        var arches = architectures ?? []
        if let native = machine.seccompArch, let entry = (archMap ?? []).first(where: { $0.architecture == native }) {
            arches = [entry.architecture] + (entry.subArchitectures ?? [])
        }
        if !arches.isEmpty { spec["architectures"] = arches }
        let held = Set(capabilities)
        var rules: [[String: Any]] = []
        for call in syscalls ?? [] where applies(call, capabilities: held, machine: machine) {
            let names = call.name.map { $0.isEmpty ? [] : [$0] } ?? []
            let all = names.isEmpty ? (call.names ?? []) : names
            guard !all.isEmpty else { continue }
            var rule: [String: Any] = ["names": all, "action": call.action]
            if let errnoRet = call.errnoRet { rule["errnoRet"] = errnoRet }
            if let args = call.args, !args.isEmpty {
                rule["args"] = args.map { arg -> [String: Any] in
                    ["index": arg.index, "value": arg.value, "valueTwo": arg.valueTwo ?? 0, "op": arg.op]
                }
            }
            rules.append(rule)
        }
        if !rules.isEmpty { spec["syscalls"] = rules }
        return spec
    }

    private func applies(_ call: Syscall, capabilities: Set<String>, machine: HostMachine) -> Bool {
        if let excludes = call.excludes {
            if let arches = excludes.arches, arches.contains(machine.dockerArch) { return false }
            if let caps = excludes.caps, caps.contains(where: capabilities.contains) { return false }
            if let minimum = excludes.minKernel.flatMap(KernelVersion.init), machine.kernel >= minimum { return false }
        }
        if let includes = call.includes {
            if let arches = includes.arches, !arches.isEmpty, !arches.contains(machine.dockerArch) { return false }
            if let caps = includes.caps, !caps.allSatisfy(capabilities.contains) { return false }
            if let minimum = includes.minKernel.flatMap(KernelVersion.init), machine.kernel < minimum { return false }
        }
        return true
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context):
            return "\(path(context)): expected \(type)"
        case let DecodingError.keyNotFound(key, context):
            return "\(path(context) == "the profile" ? "" : path(context) + ": ")\(key.stringValue) is missing"
        case let DecodingError.dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        return text.isEmpty ? "the profile" : String(text.drop(while: { $0 == "." }))
    }
}

/// A kernel release ("5.10", "4.19.0-21-amd64") compared by its numbers.
struct KernelVersion: Comparable {
    var parts: [Int]

    init?(_ text: String) {
        let numeric = text.prefix { $0.isNumber || $0 == "." }
        let fields = numeric.split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count >= 2, fields.count <= 3, let major = Int(fields[0]), let minor = Int(fields[1]) else { return nil }
        let patch = fields.count == 3 ? Int(fields[2]) : 0
        guard let patch else { return nil }
        parts = [major, minor, patch]
    }

    static func < (lhs: KernelVersion, rhs: KernelVersion) -> Bool { lhs.parts.lexicographicallyPrecedes(rhs.parts) }
}

/// What a seccomp profile's filters look at on this machine.
struct HostMachine {
    /// Docker's name for the architecture ("amd64", "arm64", …).
    var dockerArch: String
    var kernel: KernelVersion

    /// libseccomp's name for it, as profiles' archMap spells it.
    var seccompArch: String? {
        ["amd64": "SCMP_ARCH_X86_64", "x86": "SCMP_ARCH_X86", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM",
         "ppc64le": "SCMP_ARCH_PPC64LE", "s390x": "SCMP_ARCH_S390X", "riscv64": "SCMP_ARCH_RISCV64"][dockerArch]
    }

    static let current: HostMachine = {
        let machine = Uname.machine
        let arch = ["x86_64": "amd64", "aarch64": "arm64", "i686": "x86", "i386": "x86", "armv7l": "arm",
                    "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"][machine] ?? machine
        return HostMachine(dockerArch: arch, kernel: KernelVersion(Uname.release) ?? KernelVersion("0.0")!)
    }()
}
