/// A small reader for one JSON object per line: it collects the string
/// values of a few keys and skips everything else (Docker's `attrs`, keys
/// added by other tools). A general JSON decoder would build every value
/// of every line; `docker logs` on a large log reads millions of them.
struct JSONObjectScanner {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    private init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    /// The decoded string values of `keys` found at the top level of the
    /// object in `line`, in the order of `keys`; nil when `line` is not one
    /// well-formed object. A wanted key whose value is not a string reads
    /// as absent. Keys are compared as bytes: no hashing per line.
    static func stringFields(of line: ArraySlice<UInt8>, keys: [[UInt8]]) -> [[UInt8]?]? {
        var scanner = JSONObjectScanner(line)
        return scanner.object(keys)
    }

    private mutating func object(_ keys: [[UInt8]]) -> [[UInt8]?]? {
        var out = [[UInt8]?](repeating: nil, count: keys.count)
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return finished(out) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            if let slot = keys.firstIndex(of: key), peek == UInt8(ascii: "\"") {
                guard let value = string() else { return nil }
                out[slot] = value
            } else if !skipValue() {
                return nil
            }
            skipSpace()
            if take(UInt8(ascii: "}")) { return finished(out) }
            guard take(UInt8(ascii: ",")) else { return nil }
        }
    }

    private mutating func finished(_ out: [[UInt8]?]) -> [[UInt8]?]? {
        skipSpace()
        return index == bytes.endIndex ? out : nil
    }

    private var peek: UInt8? { index < bytes.endIndex ? bytes[index] : nil }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// Skips a value of any type, nested ones included.
    private mutating func skipValue() -> Bool {
        guard let byte = peek else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return skipContainer()
        default:
            let start = index
            while let next = peek, !",}] \t\r\n".utf8.contains(next) { index += 1 }
            return index > start
        }
    }

    private mutating func skipContainer() -> Bool {
        var depth = 0
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                guard string() != nil else { return false }
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
            index += 1
            if depth == 0 { return true }
        }
        return false
    }

    /// Reads a string at `index` (which holds the opening quote) and returns
    /// its bytes with escapes decoded to UTF-8.
    private mutating func string() -> [UInt8]? {
        index += 1
        var out: [UInt8] = []
        var start = index
        while let byte = peek {
            if byte == UInt8(ascii: "\"") {
                out += bytes[start..<index]
                index += 1
                return out
            }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            out += bytes[start..<index]
            index += 1
            guard escape(into: &out) else { return nil }
            start = index
        }
        return nil
    }

    private mutating func escape(into out: inout [UInt8]) -> Bool {
        guard let byte = peek else { return false }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let scalar = unicodeEscape() else { return false }
            out += Array(String(Character(scalar)).utf8)
        default: return false
        }
        return true
    }

    /// `\uXXXX` (the `\u` already read), joining a surrogate pair; a lone
    /// surrogate becomes U+FFFD as in Go's decoder.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        guard (0xD800...0xDBFF).contains(high) else {
            return Unicode.Scalar(high) ?? "\u{FFFD}"
        }
        let save = index
        if take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00...0xDFFF).contains(low) {
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
        }
        index = save
        return "\u{FFFD}"
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.endIndex else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = hexValue(byte) else { return nil }
            value = value << 4 | digit
        }
        index += 4
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
