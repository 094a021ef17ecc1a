/// JSON strings as dockerd writes and reads them in json-file logs.
///
/// Writing follows dockerd byte for byte, so a file moor writes is what
/// Docker would have written: `\"`, `\\`, `\n`, `\r` escaped short, other
/// control bytes and the HTML-sensitive `<`, `>`, `&` as `\u00XX`, U+2028
/// and U+2029 escaped, and each byte that is not part of valid UTF-8
/// replaced by U+FFFD (so a container's binary output is lossy, as in Docker).
enum JSONString {
    private static let hex = Array("0123456789abcdef".utf8)

    static func append<Bytes: RandomAccessCollection>(_ bytes: Bytes, to out: inout [UInt8])
    where Bytes.Element == UInt8, Bytes.Index == Int {
        out.append(UInt8(ascii: "\""))
        var start = bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= 0x20, byte < 0x80, !needsEscape[Int(byte)] {
                index += 1
                continue
            }
            let length = byte < 0x80 ? 1 : UTF8Validation.sequenceLength(bytes, at: index)
            if length == 1 || length == 0 || isLineSeparator(bytes, at: index, length: length) {
                out += bytes[start..<index]
                appendEscape(bytes, at: index, length: length, to: &out)
                index += max(length, 1)
                start = index
            } else {
                index += length
            }
        }
        out += bytes[start..<bytes.endIndex]
        out.append(UInt8(ascii: "\""))
    }

    /// ASCII bytes written escaped besides the control bytes.
    private static let needsEscape: [Bool] = (0..<128).map { byte in
        [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&")]
            .contains(UInt8(byte))
    }

    /// U+2028 and U+2029 (E2 80 A8 / E2 80 A9), which JavaScript reads as line ends.
    private static func isLineSeparator<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int, length: Int) -> Bool
    where Bytes.Element == UInt8, Bytes.Index == Int {
        length == 3 && bytes[index] == 0xE2 && bytes[index + 1] == 0x80 && bytes[index + 2] & 0xFE == 0xA8
    }

    /// Appends the escape for the sequence at `index`: an ASCII byte, an
    /// invalid byte (`length` 0) or a line separator.
    private static func appendEscape<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int, length: Int,
                                                                     to out: inout [UInt8])
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let byte = bytes[index]
        switch (byte, length) {
        case (UInt8(ascii: "\""), 1), (UInt8(ascii: "\\"), 1): out += [UInt8(ascii: "\\"), byte]
        case (UInt8(ascii: "\n"), 1): out += #"\n"#.utf8
        case (UInt8(ascii: "\r"), 1): out += #"\r"#.utf8
        case (_, 1): out += #"\u00"#.utf8 + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        case (_, 0): out += #"\ufffd"#.utf8
        default: out += #"\u202"#.utf8 + [hex[Int(bytes[index + 2] & 0xF)]]
        }
    }
}

/// Go's rules for one UTF-8 sequence: shortest form only, no surrogates,
/// nothing above U+10FFFF.
enum UTF8Validation {
    /// The length of the valid sequence starting at `index`, 0 if invalid.
    static func sequenceLength<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int) -> Int
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let first = bytes[index]
        let (length, secondRange): (Int, ClosedRange<UInt8>) = switch first {
        case 0xC2...0xDF: (2, 0x80...0xBF)
        case 0xE0: (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80...0xBF)
        case 0xED: (3, 0x80...0x9F)
        case 0xF0: (4, 0x90...0xBF)
        case 0xF1...0xF3: (4, 0x80...0xBF)
        case 0xF4: (4, 0x80...0x8F)
        default: (0, 0...0)
        }
        guard length > 0, index + length <= bytes.endIndex, secondRange.contains(bytes[index + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            return 0
        }
        return length
    }
}
