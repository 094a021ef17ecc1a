import MoorPluginKit

/// A size option's value: a byte count, or `-1` for no limit.
public enum SizeLimit: Sendable, Equatable {
    case unlimited
    case bytes(Int64)
}

/// Reads Docker-style `--log-opt` values and reports an unknown option or a
/// bad value as `LogDriverError.invalidOption`, naming the driver, the
/// option and what is wrong, as dockerd does before creating a container.
public struct LogOptionReader {
    /// The driver's name, in every message.
    public let driver: String
    /// The `--log-opt` values as the user gave them.
    public let options: [String: String]

    /// Reads `options` for `driver`; nothing is checked until asked.
    public init(driver: String, options: [String: String]) {
        self.driver = driver
        self.options = options
    }

    /// The error for a bad value of `option`, for checks a driver makes itself.
    public func invalid(_ option: String, _ reason: String) -> LogDriverError {
        .invalidOption(driver: driver, option: option, reason: reason)
    }

    /// Refuses the first unknown option, in name order so the message is stable.
    public func refuseUnknown(allowed: Set<String>) throws {
        if let unknown = options.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw invalid(unknown, "unknown log opt for log driver \(driver)")
        }
    }

    /// A size in Docker's units (`10k`, `10m`, `1g`, also `10MB`, `10mib`;
    /// all decimal as in dockerd: 10k is 10,000 bytes), or `-1` for no limit.
    public func size(_ option: String) throws -> SizeLimit? {
        guard let text = options[option] else { return nil }
        if text.trimmingSpaces == "-1" { return .unlimited }
        guard let bytes = LogOptionReader.parseSize(text), bytes > 0 else {
            throw invalid(option, "invalid size \"\(text)\": expected a positive size like 10k, 10m or 1g, or -1")
        }
        return .bytes(bytes)
    }

    /// A whole number of at least `minimum`.
    public func count(_ option: String, minimum: Int) throws -> Int? {
        guard let text = options[option] else { return nil }
        guard let value = Int(text), value >= minimum else {
            throw invalid(option, "invalid value \"\(text)\": expected a whole number of at least \(minimum)")
        }
        return value
    }

    /// A boolean spelled as Go's strconv.ParseBool accepts it.
    public func bool(_ option: String) throws -> Bool? {
        guard let text = options[option] else { return nil }
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw invalid(option, "invalid boolean \"\(text)\": expected true or false")
        }
    }

    /// Parses `<number>[ ][k|m|g|t|p][b|ib]` (case-insensitive), rounding
    /// down like dockerd; nil when malformed or negative.
    static func parseSize(_ text: String) -> Int64? {
        let lower = text.lowercased().trimmingSpaces
        let numberEnd = lower.firstIndex { !("0"..."9").contains($0) && $0 != "." } ?? lower.endIndex
        guard let number = Double(lower[..<numberEnd]), number >= 0 else { return nil }
        let suffix = lower[numberEnd...].trimmingSpaces
        let multipliers: [Character: Double] = ["k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15]
        var multiplier = 1.0
        if let unit = suffix.first, unit != "b" {
            guard let value = multipliers[unit], ["", "b", "ib"].contains(suffix.dropFirst()) else { return nil }
            multiplier = value
        } else if !["", "b"].contains(suffix) {
            return nil
        }
        let bytes = number * multiplier
        return bytes < 9.2e18 ? Int64(bytes) : nil
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
