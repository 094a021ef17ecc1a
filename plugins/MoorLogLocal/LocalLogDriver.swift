import MoorLogFiles
import MoorPluginKit

/// Docker's `local` log driver: compact binary records (moor's own format,
/// see `LocalRecord`) in `DIR/local-logs/container.log`, rotated by size
/// (rotated files gzipped to `container.log.1.gz`, … unless `compress=false`),
/// keeping everything `docker logs` shows and each entry's spool position
/// for exactly-once delivery across daemon restarts.
public struct LocalLogDriver: LogDriver {
    public static let id = "local"

    /// The registration the daemon adds to its registry; always ready.
    public static var registration: PluginRegistration {
        PluginRegistration(.logging, id: id) { _ in LocalLogDriver() }
    }

    public init() {}

    public func validate(options: [String: String]) throws {
        _ = try LocalOptions(options)
    }

    public func openWriter(for container: LogContainer, options: [String: String]) async throws -> any LogWriter {
        let parsed = try LocalOptions(options)
        return try await RotatingLogWriter.open(files: files(container, parsed.maxFile), format: LocalFileFormat(),
                                                limit: parsed.limit, compress: parsed.compress)
    }

    public func openReader(for container: LogContainer, options: [String: String]) async throws -> (any LogReader)? {
        RotatingLogReader(files: files(container, try LocalOptions(options).maxFile), format: LocalFileFormat())
    }

    /// Where dockerd keeps them: `local-logs/container.log` in the container's directory.
    private func files(_ container: LogContainer, _ maxFile: Int) -> LogFileSet {
        LogFileSet(directory: "\(container.directory)/local-logs", name: "container.log", maxFiles: maxFile)
    }
}
