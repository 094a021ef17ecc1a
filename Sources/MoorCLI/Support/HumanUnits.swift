import Foundation

/// Sizes and durations in the words and units the docker CLI prints and
/// accepts (go-units' conventions), so scripts that read docker's output
/// read moor's.
enum HumanUnits {
    /// "4.26MB": decimal units, 3 significant digits (`docker images`).
    static func size(_ bytes: Int64) -> String {
        scaled(Double(bytes), base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"], format: "%.3g")
    }

    /// "7.763GiB": binary units, 4 significant digits (`docker info`).
    static func binarySize(_ bytes: Int64) -> String {
        scaled(Double(bytes), base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"], format: "%.4g")
    }

    private static func scaled(_ value: Double, base: Double, units: [String], format: String) -> String {
        var value = value
        var unit = 0
        while value >= base && unit < units.count - 1 {
            value /= base
            unit += 1
        }
        return String(format: format, value) + units[unit]
    }

    /// "About a minute", "3 hours", "2 weeks": how long ago, in words.
    static func duration(seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 1 { return "Less than a second" }
        if whole == 1 { return "1 second" }
        if whole < 60 { return "\(whole) seconds" }
        let minutes = Int(seconds / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600).rounded(.toNearestOrAwayFromZero))
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(seconds / 3600) / 24 / 365) years"
    }

    /// Parses a memory size as `docker run -m` does: a number (fractions
    /// allowed), an optional space, an optional unit k/m/g/t/p in either
    /// case, then optionally "i" and/or "b": "32m", "1.5g", "512MiB", "100".
    /// Units are binary (1m = 1048576).
    static func ramBytes(_ text: String) -> Int64? {
        var rest = Substring(text)
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard let first = number.first, first.isNumber, number.last?.isNumber == true,
              let value = Double(number) ?? Double(number.split(separator: ".").prefix(2).joined(separator: "."))
        else { return nil }
        rest = rest.dropFirst(number.count)
        if rest.first == " " { rest = rest.dropFirst() }
        var multiplier: Double = 1
        if let unit = rest.first, let power = "kmgtp".firstIndex(of: Character(unit.lowercased())) {
            multiplier = pow(1024, Double("kmgtp".distance(from: "kmgtp".startIndex, to: power) + 1))
            rest = rest.dropFirst()
        }
        if rest.first == "i" || rest.first == "I" { rest = rest.dropFirst() }
        if rest.first == "b" || rest.first == "B" { rest = rest.dropFirst() }
        guard rest.isEmpty else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// Parses a Go duration ("10m", "1h30m", "1.5h", "300ms"); nil if the
    /// text is not one. Returns seconds.
    static func goDuration(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign: Double = 1
        if rest.first == "-" || rest.first == "+" {
            if rest.first == "-" { sign = -1 }
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            total += value * unit.1
            rest = rest.dropFirst(unit.0.count)
        }
        return sign * total
    }
}
