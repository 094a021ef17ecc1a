/// `{}`: Docker's value for set-like maps (`ExposedPorts`, `Volumes`).
public struct EmptyObject: Codable, Sendable, Equatable, Hashable {
    public init() {}
}

/// A command as the API accepts it: a JSON array of strings, or (from old
/// clients) a single string. Encodes as an array.
public struct StringList: Codable, Sendable, Equatable, ExpressibleByArrayLiteral {
    public var values: [String]

    public init(_ values: [String]) { self.values = values }
    public init(arrayLiteral elements: String...) { values = elements }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            values = [single]
        } else {
            values = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}

extension KeyedDecodingContainer {
    /// A value that may be missing or null; a wrong type is still an error
    /// (it names the key), unlike `try?`.
    func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        try decodeIfPresent(type, forKey: key)
    }
}
