/// The key sequence that detaches a client from a container's stdin without
/// closing it (`--detach-keys`, the `detachKeys` query parameter, exec's
/// `DetachKeys`): Docker's grammar, keys separated by commas, each a single
/// character or `ctrl-X` (X one of a-z @ [ \ ] ^ _). Default: ctrl-p,ctrl-q.
struct DetachKeys: Sendable, Equatable {
    static let standard = DetachKeys(bytes: [0x10, 0x11])

    let bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `text` nil or empty gives the default; a bad one is the request's 400.
    init(parsing text: String?) throws(APIError) {
        guard let text, !text.isEmpty else {
            self = .standard
            return
        }
        var out: [UInt8] = []
        for key in text.split(separator: ",", omittingEmptySubsequences: false) {
            let lower = key.lowercased()
            if key.utf8.count == 1, let byte = key.utf8.first {
                out.append(byte)
            } else if lower.hasPrefix("ctrl-"), lower.utf8.count == 6, let last = lower.utf8.last,
                      let control = Self.control(last) {
                out.append(control)
            } else {
                throw APIError(400, "Invalid detach keys (\(text)) provided: unknown key \"\(key)\"")
            }
        }
        bytes = out
    }

    /// ctrl-a is 1 … ctrl-z 26; ctrl-@ 0, ctrl-[ 27, ctrl-\ 28, ctrl-] 29, ctrl-^ 30, ctrl-_ 31.
    private static func control(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 1
        case UInt8(ascii: "@"): return 0
        case UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "_"):
            return byte - UInt8(ascii: "[") + 27
        default: return nil
        }
    }
}

/// Watches a client's stdin for the detach sequence. Bytes that start the
/// sequence are held back until it is either complete (the client
/// detaches; they never reach the container) or broken (they go through).
struct DetachKeyFilter: Sendable {
    let keys: DetachKeys
    private var matched = 0

    init(_ keys: DetachKeys) {
        self.keys = keys
    }

    /// What to pass to the container, and whether the sequence completed
    /// (then the bytes after it are dropped, as Docker drops them).
    mutating func feed(_ input: [UInt8]) -> (pass: [UInt8], detach: Bool) {
        guard !keys.bytes.isEmpty else { return (input, false) }
        var pass: [UInt8] = []
        for byte in input {
            if byte == keys.bytes[matched] {
                matched += 1
                if matched == keys.bytes.count { return (pass, true) }
                continue
            }
            pass += keys.bytes[0..<matched]
            matched = 0
            if byte == keys.bytes[0] {
                matched = 1
                if matched == keys.bytes.count { return (pass, true) }
            } else {
                pass.append(byte)
            }
        }
        return (pass, false)
    }
}
