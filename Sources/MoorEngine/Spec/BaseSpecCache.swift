import Foundation
import NIOConcurrencyHelpers

/// The OCI spec a container starts from, as `moor-shim spec` prints it:
/// Docker's defaults (capabilities, mounts, masked paths, seccomp profile)
/// adjusted for the container's capabilities — the seccomp profile depends
/// on them, and keeping one definition of both in the shim means the daemon
/// never disagrees with it. Cached per distinct set of options.
final class BaseSpecCache: Sendable {
    struct Key: Hashable, Sendable {
        var capAdd: [String]
        var capDrop: [String]
        var privileged: Bool
        var seccomp: Bool
    }

    private let shimBinary: String
    private let cache = NIOLockedValueBox<[Key: Data]>([:])

    init(shimBinary: String) { self.shimBinary = shimBinary }

    func spec(for key: Key) async throws -> Data {
        if let hit = cache.withLockedValue({ $0[key] }) { return hit }
        var args = ["spec"]
        for cap in key.capAdd { args += ["--cap-add", cap] }
        for cap in key.capDrop { args += ["--cap-drop", cap] }
        if key.privileged { args.append("--privileged") }
        if !key.seccomp { args.append("--no-seccomp") }
        let binary = shimBinary
        let arguments = args
        let result = try await offload { try runProgram(binary, arguments) }
        guard result.status == 0 else {
            let reason = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw EngineError.invalid(reason.hasPrefix("moor-shim: ") ? String(reason.dropFirst(11)) : reason)
        }
        cache.withLockedValue { $0[key] = result.stdout }
        return result.stdout
    }
}

struct ProgramResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String
}

/// Runs a program to completion (blocking: call through `offload`).
func runProgram(_ path: String, _ args: [String]) throws -> ProgramResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = args
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        throw EngineError.system("run \(path): \(error)")
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProgramResult(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
}
