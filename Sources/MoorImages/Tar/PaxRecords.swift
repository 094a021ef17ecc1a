/// PAX extended header records ("<length> <key>=<value>\n"), which override
/// header fields for the next entry ('x') or all later ones ('g').
struct PaxRecords {
    var values: [String: [UInt8]] = [:]

    /// Parses the data of a PAX header. `entry` names it in errors.
    static func parse(_ data: [UInt8], entry: String) throws -> PaxRecords {
        var records = PaxRecords()
        var offset = 0
        while offset < data.count {
            let (key, value, next) = try record(data, at: offset, entry: entry)
            records.values[key] = value
            offset = next
        }
        return records
    }

    /// One record starting at `offset`: its key, value and the next offset.
    private static func record(_ data: [UInt8], at offset: Int, entry: String) throws -> (String, [UInt8], Int) {
        let malformed = ImagesError.badEntry(entry, "malformed PAX extended header record")
        guard let space = data[offset...].firstIndex(of: 0x20), space > offset else { throw malformed }
        var length = 0
        for digit in data[offset..<space] {
            guard digit >= 0x30 && digit <= 0x39, length < 1 << 24 else { throw malformed }
            length = length * 10 + Int(digit - 0x30)
        }
        let end = offset + length
        guard length > space - offset + 1, end <= data.count, data[end - 1] == 0x0a else { throw malformed }
        let body = data[(space + 1)..<(end - 1)]
        guard let equals = body.firstIndex(of: UInt8(ascii: "=")), equals > body.startIndex else { throw malformed }
        let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
        return (key, Array(body[(equals + 1)...]), end)
    }

    /// Global records with an empty value remove a key; others replace it.
    mutating func merge(global other: PaxRecords) {
        for (key, value) in other.values {
            if value.isEmpty { values[key] = nil } else { values[key] = value }
        }
    }

    /// This entry's records laid over the global ones. An empty local value
    /// unsets the key for this entry.
    func overlaid(by local: PaxRecords) -> PaxRecords {
        var result = self
        for (key, value) in local.values {
            // An extended attribute may legitimately be empty.
            let unsets = value.isEmpty && !key.hasPrefix("SCHILY.xattr.")
            result.values[key] = unsets ? nil : value
        }
        return result
    }

    func text(_ key: String) -> String? {
        values[key].map { String(decoding: $0, as: UTF8.self) }
    }

    /// A non-negative decimal integer record.
    func integer(_ key: String, entry: String) throws -> Int64? {
        guard let text = text(key) else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw ImagesError.badEntry(entry, "PAX record \(key)=\(text) is not a valid number")
        }
        return value
    }

    /// A time record: decimal seconds with an optional fraction, maybe negative.
    func time(_ key: String, entry: String) throws -> TarEntry.Time? {
        guard let text = text(key) else { return nil }
        let invalid = ImagesError.badEntry(entry, "PAX record \(key)=\(text) is not a valid time")
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, let seconds = Int64(whole) else { throw invalid }
        var nanoseconds: Int32 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw invalid }
            let padded = (String(digits.prefix(9)) + String(repeating: "0", count: 9)).prefix(9)
            nanoseconds = Int32(padded) ?? 0
        }
        // "-1.5" is 1.5 s before the epoch: -2 s + 0.5 s.
        if whole.hasPrefix("-") && nanoseconds > 0 {
            return TarEntry.Time(seconds: seconds - 1, nanoseconds: 1_000_000_000 - nanoseconds)
        }
        return TarEntry.Time(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// The extended attributes carried as SCHILY.xattr.<name>=<value>.
    var xattrs: [(name: String, value: [UInt8])] {
        let prefix = "SCHILY.xattr."
        return values.keys.sorted().compactMap { key in
            guard key.hasPrefix(prefix), key.count > prefix.count, let value = values[key] else { return nil }
            return (String(key.dropFirst(prefix.count)), value)
        }
    }
}
