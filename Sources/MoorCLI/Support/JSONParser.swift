/// Parses JSON text (RFC 8259) into `JSON`, keeping key order and number
/// text. The daemon's answers are small; this is a plain recursive descent.
struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    static func parse(_ text: some Sequence<UInt8>) throws(CLIError) -> JSON {
        var parser = JSONParser(bytes: Array(text))
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.failure("unexpected data after the value") }
        return value
    }

    static func parse(_ text: String) throws(CLIError) -> JSON {
        try parse(Array(text.utf8))
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func failure(_ what: String) -> CLIError {
        CLIError("invalid JSON from the daemon: \(what) at byte \(index)")
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 { index += 1 }
    }

    private mutating func value() throws(CLIError) -> JSON {
        guard let byte = peek else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"): return try nested { (p: inout JSONParser) throws(CLIError) in try p.object() }
        case UInt8(ascii: "["): return try nested { (p: inout JSONParser) throws(CLIError) in try p.array() }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    /// Bounds the nesting so a hostile answer cannot overflow the stack.
    private mutating func nested(_ body: (inout JSONParser) throws(CLIError) -> JSON) throws(CLIError) -> JSON {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 512 else { throw failure("nesting too deep") }
        return try body(&self)
    }

    private mutating func literal(_ word: String) throws(CLIError) {
        for expected in word.utf8 {
            guard peek == expected else { throw failure("expected \(word)") }
            index += 1
        }
    }

    private mutating func object() throws(CLIError) -> JSON {
        index += 1
        var members: [JSON.Member] = []
        skipSpace()
        if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipSpace()
            members.append(JSON.Member(key: key, value: try value()))
            skipSpace()
            guard let next = peek else { throw failure("unterminated object") }
            index += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else { throw failure("expected ',' or '}'") }
        }
    }

    private mutating func array() throws(CLIError) -> JSON {
        index += 1
        var items: [JSON] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard let next = peek else { throw failure("unterminated array") }
            index += 1
            if next == UInt8(ascii: "]") { return .array(items) }
            guard next == UInt8(ascii: ",") else { throw failure("expected ',' or ']'") }
        }
    }

    private mutating func number() throws(CLIError) -> JSON {
        let start = index
        let allowed = Set("+-0123456789.eE".utf8)
        while let byte = peek, allowed.contains(byte) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty, Double(text) != nil else { throw failure("invalid value") }
        return .number(text)
    }

    private mutating func string() throws(CLIError) -> String {
        index += 1
        var out: [UInt8] = []
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"): try escape(into: &out)
            default: out.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func escape(into out: inout [UInt8]) throws(CLIError) {
        guard let byte = peek else { throw failure("unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
        default: out.append(byte)
        }
    }

    /// `\uXXXX`, joining a surrogate pair into one scalar.
    private mutating func unicodeEscape() throws(CLIError) -> [UInt8] {
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\"),
           index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") {
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid surrogate pair") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(CLIError) -> UInt32 {
        guard index + 4 <= bytes.count,
              let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        index += 4
        return code
    }
}
