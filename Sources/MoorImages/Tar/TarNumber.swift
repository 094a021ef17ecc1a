/// The numeric fields of a tar header: octal text padded with spaces or
/// NULs, or (GNU, for values too large for octal) a big-endian base-256
/// number flagged by the high bit of the first byte.
enum TarNumber {
    /// The field's value, or nil when it is neither form.
    static func parse(_ field: UnsafeRawBufferPointer) -> Int64? {
        guard let first = field.first else { return 0 }
        if first & 0x80 != 0 { return parseBase256(field) }
        return parseOctal(field)
    }

    private static func isPadding(_ byte: UInt8) -> Bool { byte == 0 || byte == 0x20 }

    private static func parseOctal(_ field: UnsafeRawBufferPointer) -> Int64? {
        guard let start = field.firstIndex(where: { !isPadding($0) }) else { return 0 }
        let end = field[start...].firstIndex(where: isPadding) ?? field.count
        // After the digits only padding may follow.
        guard field[end...].allSatisfy(isPadding) else { return nil }
        var value: Int64 = 0
        for byte in field[start..<end] {
            guard byte >= 0x30 && byte <= 0x37 else { return nil }
            guard value <= (Int64.max >> 3) else { return nil }
            value = value << 3 | Int64(byte - 0x30)
        }
        return value
    }

    /// Base-256: the first byte's 0x40 bit is the sign; negative values are
    /// stored in two's complement over the whole field.
    private static func parseBase256(_ field: UnsafeRawBufferPointer) -> Int64? {
        let negative = field[0] & 0x40 != 0
        var magnitude: UInt64 = 0
        for (index, raw) in field.enumerated() {
            var byte = negative ? ~raw : raw
            if index == 0 { byte &= 0x7f }
            guard magnitude >> 56 == 0 else { return nil }
            magnitude = magnitude << 8 | UInt64(byte)
        }
        guard magnitude >> 63 == 0 else { return nil }
        let value = Int64(magnitude)
        return negative ? ~value : value
    }
}
