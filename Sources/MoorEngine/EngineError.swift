/// The engine's one error type. Each case maps to the HTTP status Docker
/// uses for it (the API layer renders `{"message": description}`), and the
/// message names the thing that is wrong, since the docker CLI prints it.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 400
        case invalidParameter
        /// 404
        case notFound
        /// 409
        case conflict
        /// 304: the container is already in the asked state.
        case notModified
        /// 501
        case notImplemented
        /// 500
        case system
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public var httpStatus: Int {
        switch kind {
        case .invalidParameter: 400
        case .notFound: 404
        case .conflict: 409
        case .notModified: 304
        case .notImplemented: 501
        case .system: 500
        }
    }

    public static func invalid(_ message: String) -> EngineError { EngineError(.invalidParameter, message) }
    public static func notFound(_ message: String) -> EngineError { EngineError(.notFound, message) }
    public static func conflict(_ message: String) -> EngineError { EngineError(.conflict, message) }
    public static func system(_ message: String) -> EngineError { EngineError(.system, message) }

    static func noSuchContainer(_ ref: String) -> EngineError { .notFound("No such container: \(ref)") }
    static func noSuchExec(_ id: String) -> EngineError { .notFound("No such exec instance: \(id)") }
}
