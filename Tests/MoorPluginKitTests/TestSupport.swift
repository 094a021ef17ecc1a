import Foundation
import Logging
import MoorBuiltinPlugins
import MoorPluginKit

/// Runs `body` in a fresh directory under the system's temp dir, removed
/// afterwards whether the test passed or not.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("moor-plugins-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Quiet: the registry logs failed plugins, which these tests provoke.
let testLogger = Logger(label: "moor.plugins.tests") { _ in SwiftLogNoOpLogHandler() }

func loadConfiguration() -> PluginLoadConfiguration {
    PluginLoadConfiguration(stateRoot: "/nonexistent/moor-test/state", runtimeRoot: "/nonexistent/moor-test/run",
                            logger: testLogger)
}

/// The built-in plugins loaded as the daemon loads them: registered from
/// `BuiltinPlugins.registrations` through the public registry.
func loadBuiltins() async throws -> LoadedPlugins {
    var registry = PluginRegistry()
    try registry.register(BuiltinPlugins.registrations)
    return try await registry.load(configuration: loadConfiguration())
}

func logDriver(_ id: String) async throws -> any LogDriver {
    try await loadBuiltins().single(.logging, id: id)
}

func restorePolicy(_ id: String) async throws -> any RestorePolicy {
    try await loadBuiltins().single(.restore, id: id)
}

func entry(_ text: String, _ seq: UInt64, offset: UInt32 = 0, source: LogSource = .stdout,
           timeNs: Int64? = nil, partial: Bool = false) -> LogEntry {
    LogEntry(source: source, timeNs: timeNs ?? Int64(seq) * 1_000_000_000, line: Array(text.utf8), partial: partial,
             position: LogPosition(seq: seq, offset: offset))
}

func container(_ directory: String, id: String = "c0ffee0123456789", labels: [String: String] = [:],
               env: [String] = []) -> LogContainer {
    LogContainer(id: id, name: "/web", directory: directory, imageName: "alpine:3", imageID: "sha256:abcdef0123456789",
                 labels: labels, env: env)
}

func fileText(_ path: String) throws -> String {
    String(decoding: try fileBytes(path), as: UTF8.self)
}

func fileBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func appendBytes(_ bytes: [UInt8], to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
}

func fileExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}

/// The error `body` throws, as the kit's log-driver error.
func logDriverError(_ body: () async throws -> Void) async -> LogDriverError? {
    do {
        try await body()
        return nil
    } catch let error as LogDriverError {
        return error
    } catch {
        return .storage("unexpected error: \(error)")
    }
}

/// The option an `invalidOption` error names, nil for anything else.
func invalidOptionName(_ error: LogDriverError?) -> String? {
    if case let .invalidOption(_, option, _)? = error { return option }
    return nil
}

func moveFile(_ from: String, to: String) throws {
    try FileManager.default.moveItem(atPath: from, toPath: to)
}

func createFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
