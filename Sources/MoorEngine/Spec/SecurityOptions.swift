import Foundation

/// A container's `--security-opt` list (HostConfig.SecurityOpt), read with
/// dockerd's rules: "key=value", or the older "key:value" when there is no
/// "=" (a seccomp profile's JSON holds colons, so only the first separator
/// counts).
struct SecurityOptions: Equatable {
    enum Seccomp: Equatable {
        /// Docker's default profile (also `seccomp=builtin`).
        case builtin
        case unconfined
        /// A profile in Docker's format, as the client sent it (the docker
        /// CLI reads the file and sends its JSON).
        case custom(SeccompProfile)
    }

    var seccomp: Seccomp = .builtin
    var noNewPrivileges = false

    /// Parses and checks every option; an unknown option or a profile that
    /// cannot be used is an error naming it (a 400 at create). A container
    /// that chooses no seccomp profile gets `daemonProfile` (the daemon's
    /// `seccomp-profile` when it was created; nil: Docker's default).
    init(_ options: [String], daemonProfile: String? = nil) throws {
        for option in (daemonProfile.map { ["seccomp=" + $0] } ?? []) + options {
            let (key, value) = Self.split(option)
            switch (key, value) {
            case ("no-new-privileges", nil):
                noNewPrivileges = true
            case let ("no-new-privileges", flag?):
                guard let parsed = Bool(flag) else {
                    throw EngineError.invalid("invalid --security-opt 2: \"\(option)\"")
                }
                noNewPrivileges = parsed
            case ("seccomp", "unconfined"):
                seccomp = .unconfined
            case ("seccomp", "builtin"):
                seccomp = .builtin
            case let ("seccomp", profile?):
                seccomp = .custom(try SeccompProfile(json: profile))
            case ("apparmor", "unconfined"), ("label", "disable"):
                continue // moor applies neither AppArmor nor SELinux labels
            default:
                throw EngineError.invalid("invalid --security-opt: \"\(option)\"")
            }
        }
    }

    private static func split(_ option: String) -> (String, String?) {
        let separator: Character? = option.contains("=") ? "=" : option.contains(":") ? ":" : nil
        guard let separator, let index = option.firstIndex(of: separator) else { return (option, nil) }
        return (String(option[..<index]), String(option[option.index(after: index)...]))
    }
}
