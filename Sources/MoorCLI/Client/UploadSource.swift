#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MoorHTTP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A file (or stdin) sent as a request body, read on NIO's thread pool, with
/// a count of the bytes sent so far for a progress line.
final class UploadSource: Sendable {
    let path: String
    /// The size of a regular file; nil for a pipe (sent chunked).
    let length: Int?
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let sent = NIOLockedValueBox(0)

    /// `-` is stdin.
    init(path: String) throws(CLIError) {
        self.path = path
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            var opened: Int32
            repeat { opened = open(path, O_RDONLY | O_CLOEXEC) } while opened < 0 && errno == EINTR
            guard opened >= 0 else { throw CLIError("open \(path): \(String(cString: strerror(errno)))") }
            fd = opened
            ownsDescriptor = true
        }
        var info = stat()
        length = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : nil
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    var bytesSent: Int { sent.withLockedValue { $0 } }

    /// Streams the whole file to `writer`, calling `progress` after each chunk.
    func send(to writer: HTTPRequestBodyWriter, progress: @Sendable (Int) -> Void) async throws {
        while true {
            let chunk = try await NIOThreadPool.singleton.runIfActive { [self] in try SessionIO.readStdin(fd, upTo: 256 * 1024) }
            guard !chunk.isEmpty else { return }
            try await writer.write(bytes: chunk)
            let total = sent.withLockedValue { count in
                count += chunk.count
                return count
            }
            progress(total)
        }
    }
}
