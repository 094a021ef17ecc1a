import Foundation
@testable import MoorImages

/// A temporary directory removed when `body` ends, failing or not.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.path + "/moor-images-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    do {
        let result = try await body(path)
        try FileManager.default.removeItem(atPath: path)
        return result
    } catch {
        try? FileManager.default.removeItem(atPath: path)
        throw error
    }
}

/// A store in a temporary directory, with an "outside" sibling directory
/// that hostile archives must never touch.
struct StoreFixture {
    let base: String
    var root: String { base + "/store" }
    var outside: String { base + "/outside" }
    let store: ImageStore

    init(base: String, options: ImageStore.Options = ImageStore.Options()) throws {
        self.base = base
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        store = try ImageStore(root: base + "/store", options: options)
    }

    func reopen() throws -> ImageStore {
        try ImageStore(root: root)
    }

    /// Names under the store's tmp/ (must be empty after any import).
    func tmpContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/tmp")
    }

    func layerDirectories() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/layers/sha256").sorted()
    }

    func outsideContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: outside)
    }
}

/// The bytes as an HTTP-body-like stream of chunks of `size` bytes.
func chunked(_ bytes: [UInt8], size: Int = 4096) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
        var offset = 0
        while offset < bytes.count {
            continuation.yield(Array(bytes[offset..<min(bytes.count, offset + size)]))
            offset += size
        }
        continuation.finish()
    }
}

/// A stream that delivers `bytes` then fails, as a dropped connection does.
func failing(after bytes: [UInt8]) -> AsyncThrowingStream<[UInt8], any Error> {
    AsyncThrowingStream { continuation in
        continuation.yield(bytes)
        continuation.finish(throwing: CancellationError())
    }
}

/// Runs a program and returns its standard output; fails on a non-zero exit.
@discardableResult
func run(_ program: String, _ arguments: [String], input: [UInt8]? = nil) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try process.run()
    if let input {
        // Written on another thread: a program that writes as it reads
        // (gzip, tar) would block on a full output pipe otherwise.
        let writer = inputPipe.fileHandleForWriting
        DispatchQueue.global().async {
            try? writer.write(contentsOf: Data(input))
            try? writer.close()
        }
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("\(program) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return Array(data)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// "sha256:<hex>" of bytes, computed by sha256sum so the test does not use
/// the code under test.
func sha256(_ bytes: [UInt8]) throws -> String {
    let output = String(decoding: try run("/usr/bin/sha256sum", [], input: bytes), as: UTF8.self)
    return "sha256:" + String(output.prefix(64))
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A small archive with one file whose content makes it (and its layer) unique.
func uniqueArchive(_ marker: String) -> [UInt8] {
    var tar = TarWriter()
    tar.directory("etc/")
    tar.file("etc/marker", marker)
    tar.end()
    return tar.bytes
}

extension ImageStore {
    /// Imports an in-memory archive (test shorthand).
    func importBytes(_ bytes: [UInt8], reference: String? = nil, changes: [String] = [],
                     chunkSize: Int = 4096) async throws -> String {
        try await importTarball(chunked(bytes, size: chunkSize), reference: reference, changes: changes)
    }
}
