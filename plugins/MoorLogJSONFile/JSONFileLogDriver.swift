import MoorLogFiles
import MoorPluginKit

/// Docker's default log driver, `json-file`: one JSON object per line in
/// `DIR/ID-json.log` (DIR being the container's directory), rotated to
/// `ID-json.log.1`, `.2`, … by `max-size` and `max-file` (gzipped to
/// `ID-json.log.1.gz`, … with `compress`), in the format
/// dockerd writes so tools that read Docker's log files read moor's. Each
/// line also carries moor's `pos` key (see `JSONLine`) for exactly-once
/// delivery across daemon restarts.
public struct JSONFileLogDriver: LogDriver {
    public static let id = "json-file"

    /// The registration the daemon (or any host of the plugin kit) adds to
    /// its registry; the driver needs no configuration and is always ready.
    public static var registration: PluginRegistration {
        PluginRegistration(.logging, id: id) { _ in JSONFileLogDriver() }
    }

    public init() {}

    public func validate(options: [String: String]) throws {
        _ = try JSONFileOptions(options)
    }

    public func openWriter(for container: LogContainer, options: [String: String]) async throws -> any LogWriter {
        let parsed = try JSONFileOptions(options)
        let reader = LogOptionReader(driver: Self.id, options: options)
        let attributes = try LogAttributes.attributes(for: container, reader)
        return try await RotatingLogWriter.open(files: files(container, parsed.maxFile),
                                                format: JSONFileFormat(attributes: attributes), limit: parsed.limit,
                                                compress: parsed.compress)
    }

    public func openReader(for container: LogContainer, options: [String: String]) async throws -> (any LogReader)? {
        RotatingLogReader(files: files(container, try JSONFileOptions(options).maxFile), format: JSONFileFormat())
    }

    private func files(_ container: LogContainer, _ maxFile: Int) -> LogFileSet {
        LogFileSet(directory: container.directory, name: "\(container.id)-json.log", maxFiles: maxFile)
    }
}
