import MoorPluginKit

/// Docker's `none` log driver: output is dropped and `docker logs` has
/// nothing to show. The writer still remembers how far delivery went, in a
/// small file in the container's directory, so after a daemon restart the
/// drainer resumes there instead of draining the whole spool again.
public struct NoneLogDriver: LogDriver {
    public static let id = "none"

    /// The registration the daemon adds to its registry; always ready.
    public static var registration: PluginRegistration {
        PluginRegistration(.logging, id: id) { _ in NoneLogDriver() }
    }

    /// The file, in the container's directory, that holds the last position.
    public static let positionFileName = "none-log.position"

    public init() {}

    /// dockerd's `none` driver takes no options at all.
    public func validate(options: [String: String]) throws {
        if let option = options.keys.sorted().first {
            throw LogDriverError.invalidOption(driver: Self.id, option: option,
                                               reason: "the none log driver takes no options")
        }
    }

    public func openWriter(for container: LogContainer, options: [String: String]) async throws -> any LogWriter {
        try validate(options: options)
        return try await NoneLogWriter.open(path: "\(container.directory)/\(Self.positionFileName)")
    }

    /// Nothing is kept, so there is nothing to read: the API answers
    /// `docker logs` as dockerd does for this driver.
    public func openReader(for container: LogContainer, options: [String: String]) async throws -> (any LogReader)? {
        nil
    }
}
