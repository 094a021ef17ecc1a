import Foundation

/// Converts `run` flag values into the Engine API's encodings, with the
/// docker CLI's rules and error messages.
enum FlagParsers {
    /// `--cpus 1.5` → 1500000000 nano-CPUs; more than 9 decimals is refused
    /// (the value must be a whole number of nano-CPUs).
    static func nanoCPUs(_ text: String) throws(CLIError) -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0].isEmpty && parts.count == 2 ? "0" : String(parts[0])
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard let units = Int64(whole), units >= 0, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber),
              !(whole.isEmpty && fraction.isEmpty)
        else { throw CLIError.usage("invalid argument \"\(text)\" for \"--cpus\" flag: failed to parse \(text) as a rational number") }
        guard fraction.count <= 9 else {
            throw CLIError.usage("invalid argument \"\(text)\" for \"--cpus\" flag: value is too precise")
        }
        let padded = fraction.padding(toLength: 9, withPad: "0", startingAt: 0)
        let (scaled, overflow) = units.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, let nanos = Int64(padded) else {
            throw CLIError.usage("invalid argument \"\(text)\" for \"--cpus\" flag: value is too large")
        }
        return scaled + nanos
    }

    /// `-m 32m` → 33554432.
    static func memory(_ text: String, flag: String) throws(CLIError) -> Int64 {
        guard let bytes = HumanUnits.ramBytes(text) else {
            throw CLIError.usage("invalid argument \"\(text)\" for \"\(flag)\" flag: invalid size: '\(text)'")
        }
        return bytes
    }

    /// `--memory-swap -1` is unlimited; anything else is a size.
    static func memorySwap(_ text: String) throws(CLIError) -> Int64 {
        text == "-1" ? -1 : try memory(text, flag: "--memory-swap")
    }

    /// `no`, `always`, `unless-stopped`, `on-failure[:N]` → {Name, MaximumRetryCount}.
    static func restartPolicy(_ text: String) throws(CLIError) -> (name: String, maximumRetryCount: Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw CLIError.usage("invalid restart policy format: \(text)") }
        let name = parts[0].isEmpty ? "no" : parts[0]
        guard ["no", "always", "unless-stopped", "on-failure"].contains(name) else {
            throw CLIError.usage("invalid restart policy: unknown policy '\(name)'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")
        }
        guard parts.count == 2 else { return (name, 0) }
        guard name == "on-failure" else {
            throw CLIError.usage("invalid restart policy: maximum retry count can only be used with 'on-failure'")
        }
        guard let count = Int(parts[1]) else {
            throw CLIError.usage("invalid restart policy format: maximum retry count must be an integer")
        }
        guard count >= 0 else { throw CLIError.usage("invalid restart policy: maximum retry count cannot be negative") }
        return (name, count)
    }

    /// `-e K=V` as is; `-e K` takes K's value from this environment, or
    /// stays `K` (unset in the container) when it has none.
    static func environment(_ entries: [String], lookup: (String) -> String?) throws(CLIError) -> [String] {
        var out: [String] = []
        for entry in entries {
            guard !entry.isEmpty, !entry.hasPrefix("=") else {
                throw CLIError.usage("invalid argument \"\(entry)\" for \"-e, --env\" flag: invalid environment variable: \(entry)")
            }
            if entry.contains("=") {
                out.append(entry)
            } else {
                out.append(lookup(entry).map { "\(entry)=\($0)" } ?? entry)
            }
        }
        return out
    }

    /// `KEY=VALUE` pairs (labels, log options); a label without `=` is
    /// an empty value, a log option must have one.
    static func keyValues(_ entries: [String], flag: String, valueRequired: Bool) throws(CLIError) -> [String: String] {
        var out: [String: String] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty, parts.count == 2 || !valueRequired else {
                throw CLIError.usage("invalid argument \"\(entry)\" for \"\(flag)\" flag: expected KEY=VALUE")
            }
            out[parts[0]] = parts.count == 2 ? parts[1] : ""
        }
        return out
    }

    /// What `-v` asks for: a bind (`SRC:DST[:MODE]`, into HostConfig.Binds)
    /// or an anonymous volume (`DST`, into Config.Volumes).
    enum VolumeSpec: Equatable {
        case bind(String)
        case anonymous(String)
    }

    static func volume(_ spec: String) throws(CLIError) -> VolumeSpec {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let invalid = CLIError.usage("invalid argument \"\(spec)\" for \"-v, --volume\" flag: invalid volume specification: '\(spec)'")
        switch parts.count {
        case 1:
            guard parts[0].hasPrefix("/") else { throw invalid }
            return .anonymous(parts[0])
        case 2, 3:
            guard !parts[0].isEmpty, parts[1].hasPrefix("/") else { throw invalid }
            if parts.count == 3, parts[2].isEmpty { throw invalid }
            return .bind(spec)
        default:
            throw invalid
        }
    }

    /// `--tmpfs /run:size=64m` → ("/run", "size=64m").
    static func tmpfs(_ spec: String) throws(CLIError) -> (String, String) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts[0].hasPrefix("/") else {
            throw CLIError.usage("invalid argument \"\(spec)\" for \"--tmpfs\" flag: invalid mount path: '\(parts[0])' mount path must be absolute")
        }
        return (parts[0], parts.count == 2 ? parts[1] : "")
    }

    /// `--security-opt`: a `seccomp=FILE` profile is read here and sent as
    /// its JSON, as the docker CLI does (the daemon never reads the client's
    /// files); everything else goes as typed.
    static func securityOptions(_ options: [String], readFile: (String) -> [UInt8]?) throws(CLIError) -> [String] {
        var out: [String] = []
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "seccomp", !["unconfined", "builtin"].contains(parts[1]) else {
                out.append(option)
                continue
            }
            guard let bytes = readFile(parts[1]) else {
                throw CLIError.usage("opening seccomp profile (\(parts[1])) failed: cannot read the file")
            }
            let profile: JSON
            do {
                profile = try JSONParser.parse(bytes)
            } catch {
                throw CLIError.usage("compacting json for seccomp profile (\(parts[1])) failed: \(error.message)")
            }
            out.append("seccomp=" + JSONWriter.compact(profile))
        }
        return out
    }
}
