import Foundation

/// Times as the Engine API writes them: RFC 3339 with nanoseconds in UTC
/// ("2024-01-02T03:04:05.123456789Z"), Go's zero time for "never".
enum DockerTime {
    static let zero = "0001-01-01T00:00:00Z"

    static func rfc3339Nano(_ ns: Int64) -> String {
        guard ns > 0 else { return zero }
        var seconds = time_t(ns / 1_000_000_000)
        let fraction = ns % 1_000_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if fraction > 0 {
            var digits = String(format: "%09lld", fraction)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    /// Docker's `docker logs --timestamps`: always nine digits.
    static func rfc3339NanoFixed(_ ns: Int64) -> String {
        var seconds = time_t(ns / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ns % 1_000_000_000)
    }

    /// `since`/`until` query values: unix seconds with an optional fraction
    /// ("1700000000.123456789"), as the docker CLI sends them; RFC 3339 too.
    static func parseTimestamp(_ text: String) -> Int64? {
        if text.isEmpty { return nil }
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        if let seconds = Int64(parts[0]) {
            var ns = seconds * 1_000_000_000
            if parts.count == 2 {
                let digits = String(parts[1].prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
                guard let fraction = Int64(digits) else { return nil }
                ns += fraction
            }
            return ns
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
            return Int64(date.timeIntervalSince1970 * 1e9)
        }
        return nil
    }

    /// go-units' HumanDuration, which `docker ps` prints ("Up 5 seconds").
    static func humanDuration(_ ns: Int64) -> String {
        let seconds = Double(ns) / 1e9
        if seconds < 1 { return "Less than a second" }
        if seconds < 2 { return "1 second" }
        if seconds < 60 { return "\(Int(seconds)) seconds" }
        let minutes = Int(seconds / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((seconds / 3600).rounded())
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }
}
