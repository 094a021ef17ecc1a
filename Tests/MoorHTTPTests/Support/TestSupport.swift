import Foundation
import MoorHTTP
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A private directory for one test's socket, removed afterwards.
struct TempDirectory: ~Copyable {
    let path: String

    init() throws {
        var template = Array("/tmp/moorhttp-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts a server on a fresh socket, runs `body`, shuts the server down and
/// removes the socket directory, also when `body` throws.
func withServer<T: Sendable>(
    configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    _ respond: @escaping @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void,
    _ body: (HTTPServer, String) async throws -> T
) async throws -> T {
    let directory = try TempDirectory()
    var configuration = HTTPServer.Configuration(socketPath: directory.path + "/moor.sock")
    configuration.socketGroup = nil
    configuration.shutdownGracePeriod = .seconds(2)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, responder: HTTPClosureResponder(respond))
    try await server.start()
    do {
        let result = try await body(server, configuration.socketPath)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// A responder that answers `text` with 200.
@Sendable func reply(_ text: String) -> @Sendable (HTTPRequest, HTTPResponseWriter) async throws -> Void {
    { _, response in try await response.send(headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: text)) }
}

struct ProcessResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String

    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a program to completion off the cooperative pool.
func run(
    _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            let out = Pipe()
            let err = Pipe()
            let input = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = input
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            if let stdin { input.fileHandleForWriting.write(stdin) }
            try? input.fileHandleForWriting.close()
            // Read both pipes fully before waiting so a chatty child never
            // blocks on a full pipe.
            let errBox = NIOLockedValueBox(Data())
            let errDone = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let data = readToEnd(err.fileHandleForReading.fileDescriptor)
                errBox.withLockedValue { $0 = data }
                errDone.signal()
            }
            let outData = readToEnd(out.fileHandleForReading.fileDescriptor)
            process.waitUntilExit()
            errDone.wait()
            let errData = errBox.withLockedValue { $0 }
            continuation.resume(returning: ProcessResult(
                status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self)
            ))
        }
    }
}

/// Reads a pipe to its end, retrying EINTR (Foundation's
/// readDataToEndOfFile traps on it).
private func readToEnd(_ fd: Int32) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            data.append(contentsOf: buffer[0..<count])
        } else if count == 0 || errno != EINTR {
            return data
        }
    }
}

/// Runs a Python snippet; `sys.argv[1:]` are `arguments`.
func python(_ script: String, _ arguments: [String]) async throws -> ProcessResult {
    let result = try await run("python3", ["-c", script] + arguments)
    if result.status != 0 {
        throw TestFailure("python failed (\(result.status)): \(result.stderr)")
    }
    return result
}

/// Python prelude: `raw(path, data)` sends bytes and returns everything the
/// server sends until it closes; `head_and_rest` splits an HTTP answer.
let pythonPrelude = """
import socket, sys, json, time
def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    return s
def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
def raw(path, data):
    s = connect(path)
    s.sendall(data)
    out = read_all(s)
    s.close()
    return out
def read_head(s):
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        chunk = s.recv(1)
        if not chunk:
            raise Exception("closed before head: %r" % data)
        data += chunk
    return data.decode()
def read_response(s):
    head = read_head(s)
    length = 0
    for line in head.split("\\r\\n")[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = b""
    while len(body) < length:
        body += s.recv(length - len(body))
    return head, body

"""

/// Reads a whole body into a string.
func text(of body: HTTPBody) async throws -> String {
    let buffer = try await body.collect(upTo: 1 << 24)
    return String(buffer: buffer)
}

/// A one-shot gate a test opens to let a responder go on. Waiting ends on
/// cancellation too, so a test's time limit can end a hung wait.
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = NIOLockedValueBox(State())

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLockedValue(\.open) }

    func wait() async {
        let id = state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state in
                    if state.open || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// A counter shared between a test and its responder.
final class Counter: Sendable {
    private let value = NIOLockedValueBox(0)

    func add(_ amount: Int) { value.withLockedValue { $0 += amount } }
    var current: Int { value.withLockedValue { $0 } }
}

/// A value shared between a test and its responder.
final class Shared<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>
    init(_ value: Value) { box = NIOLockedValueBox(value) }
    func set(_ value: Value) { box.withLockedValue { $0 = value } }
    func get() -> Value { box.withLockedValue { $0 } }
    func update<T>(_ body: (inout Value) -> T) -> T { box.withLockedValue(body) }
}
