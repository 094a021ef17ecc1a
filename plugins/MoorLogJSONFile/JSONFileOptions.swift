import MoorLogFiles
import MoorPluginKit

/// The json-file driver's `--log-opt`s, with dockerd's defaults and rules:
/// no size limit unless `max-size` is given; `max-file` (default 1) counts
/// the current file too and matters only with `max-size`; `compress`
/// needs both. Plus Docker's common `labels`, `env`, `*-regex` and `tag`.
struct JSONFileOptions: Sendable, Equatable {
    static let driver = "json-file"
    static let optionNames: Set<String> = LogAttributes.optionNames.union(["max-size", "max-file", "compress"])

    var maxSize: SizeLimit = .unlimited
    var maxFile = 1
    /// Gzip rotated files (`ID-json.log.1.gz`); the current file stays plain.
    var compress = false

    init(_ options: [String: String]) throws {
        let reader = LogOptionReader(driver: JSONFileOptions.driver, options: options)
        try reader.refuseUnknown(allowed: JSONFileOptions.optionNames)
        maxSize = try reader.size("max-size") ?? .unlimited
        maxFile = try reader.count("max-file", minimum: 1) ?? 1
        compress = try reader.bool("compress") ?? false
        if compress && (maxFile < 2 || maxSize == .unlimited) {
            throw reader.invalid("compress", "cannot be true when max-file is less than 2 or max-size is not set")
        }
        try LogAttributes.validate(reader)
    }

    /// The largest a file may grow before rotation, nil for no limit.
    var limit: Int64? {
        if case let .bytes(bytes) = maxSize { return bytes }
        return nil
    }
}
