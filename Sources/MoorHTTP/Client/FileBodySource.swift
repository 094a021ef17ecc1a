#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOPosix

/// Reads a file for upload on NIO's thread pool, so no task of the
/// cooperative pool blocks on the disk.
final class FileBodySource: Sendable {
    let path: String
    private let fd: Int32
    /// The size of a regular file; nil for a pipe or device (sent chunked).
    let length: Int?

    init(path: String) throws {
        var opened: Int32
        repeat { opened = open(path, O_RDONLY | O_CLOEXEC) } while opened < 0 && errno == EINTR
        guard opened >= 0 else {
            throw HTTPError(.localFile, "cannot open the file to upload", context: path,
                            cause: SystemError(call: "open", code: errno))
        }
        var info = stat()
        guard fstat(opened, &info) == 0 else {
            let code = errno
            close(opened)
            throw HTTPError(.localFile, "cannot stat the file to upload", context: path,
                            cause: SystemError(call: "fstat", code: code))
        }
        fd = opened
        self.path = path
        length = info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : nil
    }

    deinit {
        close(fd)
    }

    /// Sends the file through `writer`, 256 KiB at a time.
    func send(to writer: HTTPRequestBodyWriter) async throws {
        while true {
            let chunk = try await NIOThreadPool.singleton.runIfActive { [self] in try readChunk() }
            guard chunk.readableBytes > 0 else { return }
            try await writer.write(chunk)
        }
    }

    private func readChunk() throws -> ByteBuffer {
        var buffer = ByteBuffer()
        let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 256 * 1024) { raw in
            var result: Int
            repeat { result = read(fd, raw.baseAddress, raw.count) } while result < 0 && errno == EINTR
            guard result >= 0 else {
                throw HTTPError(.localFile, "cannot read the file to upload", context: path,
                                cause: SystemError(call: "read", code: errno))
            }
            return result
        }
        _ = count
        return buffer
    }
}
