import Foundation
import Logging
import NIOConcurrencyHelpers

/// The daemon's log output: one line per message on stderr, with a level
/// that SIGHUP can change for every logger at once.
public final class DaemonLogLevel: Sendable {
    private let box: NIOLockedValueBox<Logger.Level>

    public init(_ level: Logger.Level) { box = NIOLockedValueBox(level) }

    public var level: Logger.Level {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }

    /// "debug", "info", "warn", "error", "fatal" as dockerd names them.
    public static func parse(_ name: String) -> Logger.Level {
        switch name {
        case "debug": .debug
        case "warn": .warning
        case "error": .error
        case "fatal": .critical
        default: .info
        }
    }
}

public struct DaemonLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let shared: DaemonLogLevel

    public init(label: String, level: DaemonLogLevel) {
        self.label = label
        shared = level
    }

    public var logLevel: Logger.Level {
        get { shared.level }
        set { shared.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let rendered = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote("\($0.value)"))" }.joined(separator: " ")
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC") ?? .current,
                                               formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let line = "time=\"\(time)\" level=\(Self.name(event.level)) msg=\(Self.quote("\(event.message)"))" + (rendered.isEmpty ? "" : " " + rendered) + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warning"
        case .error: "error"
        case .critical: "fatal"
        }
    }

    static func quote(_ text: String) -> String {
        text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || text.isEmpty
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : text
    }
}
