import Glibc

/// The platform an imported image is recorded for (`docker import
/// --platform`): os/architecture[/variant], in Go's names as Docker writes
/// them. The default is the host's.
public struct Platform: Sendable, Equatable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// The host's platform, from uname.
    public static var host: Platform {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let (architecture, variant) = normalize(architecture: machine)
        return Platform(os: "linux", architecture: architecture, variant: variant)
    }

    private static let architectures: Set<String> = [
        "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64",
    ]

    /// Parses "linux/arm64", "linux/arm/v7", "arm64" (host OS) or "linux"
    /// (host architecture); nil or "" is the host. Only Linux is accepted.
    public static func parse(_ text: String?) throws -> Platform {
        guard let text, !text.isEmpty else { return host }
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 3, !parts.contains(where: \.isEmpty) else {
            throw ImagesError.invalid("invalid platform \"\(text)\": expected os/architecture[/variant]")
        }
        var os = parts[0]
        var machine = parts.count > 1 ? parts[1] : nil
        if parts.count == 1 && os != "linux" {
            // A lone architecture, as containerd's parser allows.
            machine = os
            os = "linux"
        }
        guard os == "linux" else {
            throw ImagesError.invalid("invalid platform \"\(text)\": operating system \"\(os)\" is not supported")
        }
        guard let machine else { return host }
        let (architecture, implied) = normalize(architecture: machine)
        guard architectures.contains(architecture) else {
            throw ImagesError.invalid("invalid platform \"\(text)\": unknown architecture \"\(machine)\"")
        }
        return Platform(os: os, architecture: architecture, variant: parts.count > 2 ? parts[2] : implied)
    }

    /// Kernel and Debian spellings to Go's, with the ARM variant they imply.
    private static func normalize(architecture: String) -> (String, String?) {
        switch architecture {
        case "x86_64", "x86-64": ("amd64", nil)
        case "aarch64": ("arm64", nil)
        case "armv7l", "armhf": ("arm", "v7")
        case "armv6l", "armel": ("arm", "v6")
        case "i386", "i686": ("386", nil)
        default: (architecture, nil)
        }
    }
}
