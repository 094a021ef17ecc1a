/// The filters of `docker image prune` (POST /images/prune), as dockerd
/// reads them: `dangling` (true: only images without tags, the default;
/// false: every image no container uses), `until` (created before: a Unix
/// time, an RFC 3339 date, or a Go duration back from now such as "24h"),
/// `label` / `label!` (key or key=value, present / absent).
public struct ImagePruneFilters: Sendable {
    public var danglingOnly = true
    /// Seconds since the epoch; images created at or after it are kept.
    public var until: Double?
    public var labels = [String]()
    public var excludedLabels = [String]()

    static let known: Set<String> = ["dangling", "until", "label", "label!"]

    /// `now` in seconds since the epoch (for durations).
    public init(_ filters: [String: [String]], now: Double) throws {
        for key in filters.keys where !Self.known.contains(key) {
            throw ImagesError.invalid("invalid filter '\(key)'")
        }
        for value in filters["dangling"] ?? [] {
            switch value.lowercased() {
            case "true", "1": danglingOnly = true
            case "false", "0": danglingOnly = false
            default: throw ImagesError.invalid("invalid filter 'dangling=\(value)'")
            }
        }
        if let values = filters["until"] {
            guard values.count == 1, let value = values.first else {
                throw ImagesError.invalid("more than one until filter specified")
            }
            guard let time = TimeValue.parse(value, now: now) else {
                throw ImagesError.invalid("invalid filter 'until=\(value)': not a time or a duration")
            }
            until = time
        }
        labels = filters["label"] ?? []
        excludedLabels = filters["label!"] ?? []
    }

    /// Whether the filters let `image` go (containers are checked apart).
    public func admits(_ image: ImageRecord) -> Bool {
        if danglingOnly && !(image.repoTags.isEmpty && image.repoDigests.isEmpty) { return false }
        if let until {
            guard let created = image.config.created.flatMap(TimeValue.parseRFC3339), created < until else { return false }
        }
        let have = image.config.config?.labels ?? [:]
        return labels.allSatisfy { Self.matches($0, have) } && !excludedLabels.contains { Self.matches($0, have) }
    }

    /// "key" is present; "key=value" has that value.
    private static func matches(_ label: String, _ have: [String: String]) -> Bool {
        let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return parts.count == 2 ? have[parts[0]] == parts[1] : have[parts[0]] != nil
    }
}

/// Times as the docker CLI sends them in filters.
enum TimeValue {
    /// Unix seconds ("1700000000", "1700000000.5"), RFC 3339, a date
    /// ("2024-01-31"), or a Go duration before `now` ("10m", "1h30m").
    static func parse(_ text: String, now: Double) -> Double? {
        if let seconds = Double(text), text.first?.isNumber == true { return seconds }
        if let duration = goDuration(text) { return now - duration }
        if let time = parseRFC3339(text) { return time }
        if text.utf8.count == 10, let time = parseRFC3339(text + "T00:00:00Z") { return time }
        return nil
    }

    /// "1h30m", "1.5h", "300ms", "-10s": seconds.
    static func goDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var sign = 1.0
        if rest.hasPrefix("-") || rest.hasPrefix("+") {
            sign = rest.hasPrefix("-") ? -1 : 1
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        return sign * total
    }

    /// "2024-01-31T10:20:30.123456789Z" or with an offset ("+02:00").
    static func parseRFC3339(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            return Int(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            let start = index
            index += 1
            while index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 { index += 1 }
            fraction = Double(String(decoding: bytes[start..<index], as: UTF8.self)) ?? 0
        }
        var offset = 0
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6)) else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        } else if bytes[index] != UInt8(ascii: "Z") {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
