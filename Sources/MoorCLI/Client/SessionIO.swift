#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorHTTP
import NIOCore
import NIOPosix

/// Moves the bytes of a hijacked session (`run` attached, `exec`): the
/// daemon's output to our stdout and stderr, split by the frame headers
/// unless the session has a TTY, and, when asked, our stdin to the daemon,
/// half-closing at its end so the container sees EOF while its output keeps
/// coming.
enum SessionIO {
    /// Returns when the daemon ends the output (the process exited or the
    /// session closed); stdin may still be open then and is abandoned.
    static func run(_ stream: HijackedStream, tty: Bool, forwardStdin: Bool) async throws(CLIError) {
        let input: Task<Void, Never>? = forwardStdin ? Task { await copyStdin(to: stream.output) } : nil
        defer { input?.cancel() }
        var demuxer = StreamDemuxer()
        do {
            for try await chunk in stream.input {
                if tty {
                    guard Output.write(chunk.readableBytesView, to: Output.stdout) else { break }
                    continue
                }
                guard try write(demuxer.feed(chunk.readableBytesView)) else { break }
            }
        } catch let error as CLIError {
            throw error
        } catch {
            // The daemon dropped the connection: what arrived was shown.
        }
        await stream.output.finish()
    }

    /// Writes demultiplexed pieces; false once stdout's reader is gone.
    static func write(_ pieces: [StreamDemuxer.Piece]) throws(CLIError) -> Bool {
        for piece in pieces {
            switch piece.stream {
            case .stdin, .stdout:
                guard Output.write(piece.bytes, to: Output.stdout) else { return false }
            case .stderr:
                Output.write(piece.bytes, to: Output.stderr)
            case .systemErr:
                throw CLIError(String(decoding: piece.bytes, as: UTF8.self))
            }
        }
        return true
    }

    /// Copies stdin until its end, then half-closes. Reads block, so they
    /// run on NIO's thread pool rather than a task of the cooperative pool.
    static func copyStdin(to output: RawStreamWriter) async {
        do {
            while !Task.isCancelled {
                let chunk = try await NIOThreadPool.singleton.runIfActive { try readStdin() }
                guard !chunk.isEmpty else { break }
                try await output.write(bytes: chunk)
            }
        } catch {
            return
        }
        try? await output.closeWrite()
    }

    /// One read from stdin (or `fd`); empty at its end.
    static func readStdin(_ fd: Int32 = 0, upTo size: Int = 32 * 1024) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: size)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return Array(buffer.prefix(count)) }
            if errno == EINTR { continue }
            throw CLIError("cannot read \(fd == 0 ? "stdin" : "the input"): \(String(cString: strerror(errno)))")
        }
    }
}
