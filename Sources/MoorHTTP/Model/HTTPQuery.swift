/// A decoded query string: ordered, multi-valued (`filters` or `changes`
/// repeat), with the parsing rules Docker's handlers use.
public struct HTTPQuery: Sendable, Hashable, Sequence {
    public struct Item: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var items: [Item]

    public init(_ items: [Item] = []) {
        self.items = items
    }

    /// Parses a raw query string (without the `?`): `&`-separated
    /// `name=value` pairs, `+` as space, percent-decoded. A pair without `=`
    /// has an empty value (`?follow`); empty pairs (`a=1&&b=2`) are skipped.
    public init(parsing raw: Substring) throws(HTTPError) {
        var items: [Item] = []
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try PercentEncoding.decode(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? try PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
            items.append(Item(name: name, value: value))
        }
        self.items = items
    }

    /// A query from name-value pairs, for building request targets.
    public init(_ pairs: [(String, String)]) {
        items = pairs.map { Item(name: $0.0, value: $0.1) }
    }

    public mutating func append(_ name: String, _ value: String) {
        items.append(Item(name: name, value: value))
    }

    /// The query string, percent-encoded (without the `?`).
    public var encoded: String {
        items.map { PercentEncoding.encode($0.name) + "=" + PercentEncoding.encode($0.value) }
            .joined(separator: "&")
    }

    public func makeIterator() -> IndexingIterator<[Item]> {
        items.makeIterator()
    }

    public func contains(_ name: String) -> Bool {
        items.contains { $0.name == name }
    }

    /// The first value of `name` (names are case-sensitive, as in Go's
    /// `url.Values`).
    public func string(_ name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// Every value of `name`, in order.
    public func strings(_ name: String) -> [String] {
        items.filter { $0.name == name }.map(\.value)
    }

    /// Docker's lenient boolean (`httputils.BoolValueOrDefault`): absent is
    /// `default`; empty, `0`, `no`, `false` and `none` (any case) are false;
    /// anything else is true. This is how `?follow=1`, `?force=true` and
    /// `?stream=0` are read by dockerd.
    public func bool(_ name: String, default defaultValue: Bool = false) -> Bool {
        guard let raw = string(name) else { return defaultValue }
        let value = raw.trimmingSpaces.lowercased()
        return !["", "0", "no", "false", "none"].contains(value)
    }

    /// A strict boolean (Go's `strconv.ParseBool`: 1, t, true, 0, f, false in
    /// the usual cases), for the parameters dockerd rejects when malformed.
    /// Absent or empty is nil.
    public func strictBool(_ name: String) throws(HTTPError) -> Bool? {
        guard let value = string(name), !value.isEmpty else { return nil }
        switch value {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw HTTPError(.badRequest, "invalid boolean value for query parameter \(name): \"\(value)\"")
        }
    }

    /// An integer parameter (`tail`, `t`, `h`, `w`); absent or empty is nil,
    /// anything not a base-10 integer is a 400 naming the parameter.
    public func int(_ name: String) throws(HTTPError) -> Int? {
        guard let value = string(name), !value.isEmpty else { return nil }
        guard let number = Int(value.trimmingSpaces) else {
            throw HTTPError(.badRequest, "invalid integer value for query parameter \(name): \"\(value)\"")
        }
        return number
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
