import Foundation

/// How a process ended, as the shim wrote it to `STATE_DIR/exit` (or
/// `exec-N/exit`) the moment it reaped it: readable without the shim.
public struct ExitRecord: Equatable, Sendable, Codable {
    public var pid: Int32
    /// 128 + n when killed by signal n.
    public var exitCode: Int32
    /// The signal that killed the process, or 0.
    public var signal: Int32
    public var oomKilled: Bool
    public var startedNs: UInt64
    public var finishedNs: UInt64

    enum CodingKeys: String, CodingKey {
        case pid
        case exitCode = "exit_code"
        case signal
        case oomKilled = "oom_killed"
        case startedNs = "started_ns"
        case finishedNs = "finished_ns"
    }

    public init(pid: Int32, exitCode: Int32, signal: Int32 = 0, oomKilled: Bool = false,
                startedNs: UInt64, finishedNs: UInt64) {
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.oomKilled = oomKilled
        self.startedNs = startedNs
        self.finishedNs = finishedNs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pid = try c.field(.pid)
        exitCode = try c.field(.exitCode)
        signal = try c.field(.signal)
        oomKilled = try c.field(.oomKilled)
        startedNs = try c.field(.startedNs)
        finishedNs = try c.field(.finishedNs)
    }

    /// The record is written with rename, so it is whole or absent: a
    /// missing file (`ENOENT`) means the process has not been reaped.
    public static func read(path: String) throws -> ExitRecord {
        let bytes: [UInt8]
        do {
            bytes = try readSmallFile(path, limit: 64 * 1024)
        } catch let error as ShimError {
            throw ShimError(code: error.code, message: "exit record: \(error.message)", context: path)
        }
        return try decode(bytes, path: path)
    }

    /// Decodes the JSON; `path` is only for the error message.
    public static func decode(_ bytes: [UInt8], path: String) throws -> ExitRecord {
        do {
            return try JSONDecoder().decode(ExitRecord.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ShimError(code: EPROTO, message: "exit record: \(describe(error))", context: path)
        }
    }

    /// A decoding error in terms of the file's own field names.
    static func describe(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : "field \"\(path.map(\.stringValue).joined(separator: "."))\""
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing field \"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\""
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "\(field(context.codingPath)): expected \(type)"
        case let .dataCorrupted(context):
            let underlying = context.underlyingError.map { ": \($0.localizedDescription)" } ?? ""
            return context.codingPath.isEmpty
                ? "not valid JSON\(underlying)"
                : "\(field(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes one field. An out-of-range number (say -1 for a UInt64) makes
    /// Foundation on Linux throw an internal error that reaches the caller
    /// as "not valid JSON"; blame it on the field instead.
    func field<T: Decodable>(_ key: Key) throws -> T {
        do {
            return try decode(T.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath + [key], debugDescription: "not a valid \(T.self)",
                                      underlyingError: error))
        }
    }
}
