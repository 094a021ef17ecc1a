import Foundation
@testable import MoorShimClient

// Little-endian bytes written out by hand, independently of the module's
// own ByteWriter, so layout tests compare against the documented table.
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
func le32(_ v: Int32) -> [UInt8] { le32(UInt32(bitPattern: v)) }

/// A seeded generator, so a failing fuzz case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Runs `body`; returns nil if it succeeded, the `ShimError` if it threw
/// one, and fails the caller's expectation through `other` for anything else.
func shimError(_ body: () throws -> Void) -> ShimError? {
    do {
        try body()
        return nil
    } catch let error as ShimError {
        return error
    } catch {
        return ShimError(code: -1, message: "not a ShimError: \(error)")
    }
}

/// A temporary directory removed when the test is done with it.
final class TempDir: Sendable {
    let path: String

    init() throws {
        // Short: a unix socket path inside must stay under 108 bytes.
        path = "/tmp/moor-ct-" + UUID().uuidString.prefix(12).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    func file(_ name: String, _ contents: String, mode: Int = 0o644) throws -> String {
        let full = path + "/" + name
        guard mode & 0o111 != 0 else {
            try contents.write(toFile: full, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
            return full
        }
        // A program to run: written by a child process, so no descriptor
        // open for writing on it can leak into a process another test
        // forks meanwhile (exec would then fail with ETXTBSY).
        let source = full + ".source"
        try contents.write(toFile: source, atomically: false, encoding: .utf8)
        let copy = try ChildProcess.run("/bin/cp", [source, full])
        guard copy.termination == .exited(0) else {
            throw ShimError(code: -1, message: "cp \(source) \(full): \(String(decoding: copy.stderr, as: UTF8.self))")
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        return full
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
