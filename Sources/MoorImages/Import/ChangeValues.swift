/// The values of --change instructions: ENV/LABEL pairs, EXPOSE ports,
/// STOPSIGNAL names, each checked as Docker checks them.
enum ChangeValues {
    /// `KEY a=b c="d e"` or the old `KEY name value` form (a space before
    /// any "="); keys and values processed (quotes, escapes, $VAR).
    static func pairs(_ rest: String, _ keyword: String, env: [String: String]) throws -> [(String, String)] {
        let words = ShellWords.split(rest)
        guard let first = words.first else { throw ImagesError.invalid("\(keyword) requires at least one argument") }
        var raw = [(Substring, Substring)]()
        if !first.contains("=") {
            guard let gap = rest.firstIndex(where: \.isWhitespace) else {
                throw ImagesError.invalid("\(keyword) must have two arguments")
            }
            raw.append((rest[..<gap], Substring(rest[gap...].trimmingLeadingSpace())))
        } else {
            for word in words {
                guard let equals = word.firstIndex(of: "=") else {
                    throw ImagesError.invalid("syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
                }
                raw.append((word[..<equals], word[word.index(after: equals)...]))
            }
        }
        return try raw.map { key, value in
            let name = try ShellWords.process(String(key), env: env)
            guard !name.isEmpty else { throw ImagesError.invalid("\(keyword) names can not be blank") }
            return (name, try ShellWords.process(String(value), env: env))
        }
    }

    /// "80", "80/udp", "8000-8010/tcp" → ["80/tcp"], ... (Docker's keys).
    static func ports(_ spec: String) throws -> [String] {
        guard !spec.contains(":") else {
            throw ImagesError.invalid("EXPOSE takes ports, not IP:PORT or HOST:CONTAINER (\"\(spec)\")")
        }
        let parts = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let proto = parts.count > 1 && !parts[1].isEmpty ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else {
            throw ImagesError.invalid("invalid protocol \"\(parts[1])\" in port \"\(spec)\"")
        }
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let start = UInt16(bounds[0]), let end = bounds.count > 1 ? UInt16(bounds[1]) : start,
              start > 0, start <= end else {
            throw ImagesError.invalid("invalid port \"\(spec)\"")
        }
        return (start...end).map { "\($0)/\(proto)" }
    }

    /// A signal as `docker stop` will send it: a number or a name, with or
    /// without "SIG", any case. The text is kept as given, as Docker keeps it.
    static func signal(_ text: String) throws -> String {
        if let number = Int(text) {
            guard (1...64).contains(number) else { throw ImagesError.invalid("invalid signal: \(text)") }
            return text
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard signalNames.contains(name) || realtime(name) else {
            throw ImagesError.invalid("invalid signal: \(text)")
        }
        return text
    }

    private static let signalNames: Set<String> = [
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
        "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP",
        "TSTP", "TTIN", "TTOU", "UNUSED", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
        "RTMIN", "RTMAX",
    ]

    /// RTMIN+n and RTMAX-n, as Docker's signal table spells them.
    private static func realtime(_ name: String) -> Bool {
        for (prefix, limit) in [("RTMIN+", 15), ("RTMAX-", 14)] where name.hasPrefix(prefix) {
            if let offset = Int(name.dropFirst(prefix.count)), (1...limit).contains(offset) { return true }
        }
        return false
    }
}
