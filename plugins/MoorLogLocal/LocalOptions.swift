import MoorLogFiles
import MoorPluginKit

/// The local driver's `--log-opt`s with dockerd's defaults: files of
/// 20 MiB, five of them, compressed when rotated; `compress` needs more
/// than one file. Plus Docker's common `labels`, `env`, `*-regex` and `tag`,
/// validated and accepted (the format keeps no attributes, as `docker logs`
/// shows none).
struct LocalOptions: Sendable, Equatable {
    static let driver = "local"
    static let optionNames: Set<String> = LogAttributes.optionNames.union(["max-size", "max-file", "compress"])

    var maxSize: SizeLimit = .bytes(20 * 1024 * 1024)
    var maxFile = 5
    /// Gzip rotated files (`container.log.1.gz`); the current file stays plain.
    var compress = true

    init(_ options: [String: String]) throws {
        let reader = LogOptionReader(driver: LocalOptions.driver, options: options)
        try reader.refuseUnknown(allowed: LocalOptions.optionNames)
        maxSize = try reader.size("max-size") ?? maxSize
        maxFile = try reader.count("max-file", minimum: 1) ?? maxFile
        compress = try reader.bool("compress") ?? compress
        if compress && maxFile < 2 {
            throw reader.invalid("compress", "compression cannot be enabled when max-file is 1 (set compress=false)")
        }
        try LogAttributes.validate(reader)
    }

    var limit: Int64? {
        if case let .bytes(bytes) = maxSize { return bytes }
        return nil
    }
}
