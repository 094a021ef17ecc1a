/// The grammar of Docker's references (distribution/reference), written
/// as small scanners instead of regular expressions.
enum ReferenceSyntax {
    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5a) || byte == UInt8(ascii: "_")
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isPathComponent(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        var index = 0
        while index < bytes.count {
            if isLowerAlnum(bytes[index]) {
                index += 1
                continue
            }
            // A separator: ".", "_", "__" or a run of "-", then alphanumerics.
            let start = index
            if bytes[index] == UInt8(ascii: "-") {
                while index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
            } else if bytes[index] == UInt8(ascii: ".") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "_") {
                index += 1
                if index < bytes.count && bytes[index] == UInt8(ascii: "_") { index += 1 }
            } else {
                return false
            }
            guard index > start, index < bytes.count, isLowerAlnum(bytes[index]) else { return false }
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`
    static func isTag(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWordByte(first) else { return false }
        return bytes.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// "sha256:" and 64 lowercase hex digits (or sha384/sha512 lengths).
    static func isDigest(_ text: String) -> Bool {
        let lengths = ["sha256": 64, "sha384": 96, "sha512": 128]
        guard let colon = text.firstIndex(of: ":"), let length = lengths[String(text[..<colon])] else { return false }
        let hex = text[text.index(after: colon)...]
        return hex.utf8.count == length && Hex.isLowercaseHex(hex)
    }

    /// A host name (labels of letters, digits and inner hyphens) or an
    /// IPv6 address in brackets, with an optional numeric port.
    static func isDomain(_ text: String) -> Bool {
        var host = Substring(text)
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            host = host[..<colon]
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return false }
            return host.dropFirst().dropLast().utf8.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy(isHostLabel)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }

    private static func isHostLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        func alnum(_ byte: UInt8) -> Bool { isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5a) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }
}
