/// A configuration value as daemon.json holds it (JSON), handed to a
/// plugin's initialiser. Plugins read what they need with the typed
/// accessors and report a wrong type naming the key.
public enum ConfigValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// The JSON type name, for error messages ("expected a string, got a number").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case let .bool(value): String(value)
        case let .number(value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case let .string(value): "\"\(value)\""
        case let .array(values): "[" + values.map(\.description).joined(separator: ",") + "]"
        case let .object(values):
            "{" + values.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
    }

    public subscript(key: String) -> ConfigValue? {
        if case let .object(values) = self { return values[key] }
        return nil
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case let .number(value) = self { return value }
        return nil
    }

    public var objectValue: [String: ConfigValue]? {
        if case let .object(value) = self { return value }
        return nil
    }

    public var arrayValue: [ConfigValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    /// A flat string map (Docker's `log-opts`): every value must be a string.
    public func stringMap(named key: String) throws -> [String: String] {
        guard let object = objectValue else {
            throw PluginError.invalidConfiguration("\(key): expected an object, got \(typeName)")
        }
        var out: [String: String] = [:]
        for (name, value) in object {
            guard let text = value.stringValue else {
                throw PluginError.invalidConfiguration("\(key).\(name): expected a string, got \(value.typeName)")
            }
            out[name] = text
        }
        return out
    }
}
