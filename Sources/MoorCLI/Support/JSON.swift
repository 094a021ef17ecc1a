/// A JSON value that keeps what the docker CLI shows: object keys in the
/// daemon's order (`inspect` prints them as received) and numbers as their
/// literal text (a PID or a size is never turned into a float).
indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, as received or as built.
    case number(String)
    case string(String)
    case array([JSON])
    case object([Member])

    struct Member: Sendable, Equatable {
        var key: String
        var value: JSON
    }

    static func int(_ value: some BinaryInteger) -> JSON { .number(String(value)) }

    static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }

    /// An object from pairs, in order.
    static func object(_ pairs: [(String, JSON)]) -> JSON {
        .object(pairs.map { Member(key: $0.0, value: $0.1) })
    }

    /// An object whose keys are sorted, as Go encodes a map.
    static func map(_ values: [String: String]) -> JSON {
        .object(values.keys.sorted().map { Member(key: $0, value: .string(values[$0] ?? "")) })
    }

    /// The member `key` of an object; nil for anything else or a missing key.
    subscript(key: String) -> JSON? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    var intValue: Int64? {
        guard case let .number(text) = self else { return nil }
        return Int64(text) ?? Double(text).flatMap { Int64(exactly: $0.rounded(.towardZero)) }
    }

    var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    var arrayValue: [JSON]? {
        if case let .array(items) = self { return items }
        return nil
    }

    /// The strings of an array of strings; other items are skipped.
    var stringArray: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }

    var isNull: Bool { self == .null }
}

extension JSON: ExpressibleByStringLiteral {
    init(stringLiteral value: String) {
        self = .string(value)
    }
}
