import CZlib
import Glibc

/// gzip compression over zlib into a file descriptor, for the store's own
/// files that are mostly tar headers (tar-split records compress ~10x).
final class GzipDeflater {
    private static let outputSize = 256 * 1024
    /// zlib keeps a pointer back to its z_stream, so it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private let fd: Int32
    private let path: String

    /// Writes to `fd` (the caller's, never closed here); `path` names it in errors.
    init(fd: Int32, path: String) throws {
        self.fd = fd
        self.path = path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
        let code = moor_deflate_init_gzip(stream)
        guard code == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw ImagesError.system("\(path): cannot start gzip compression (zlib error \(code))", errno: 0)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = UInt32(count)
            try run(Z_NO_FLUSH)
            offset += count
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes the end of the gzip stream.
    func finish() throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(Z_FINISH)
    }

    private func run(_ flush: Int32) throws {
        while true {
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count)
            let code = deflate(stream, flush)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try FileIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: output[0..<produced]), path) }
            switch code {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                if flush == Z_NO_FLUSH && stream.pointee.avail_in == 0 && produced < output.count { return }
                if code == Z_BUF_ERROR && produced == 0 { return }
            default:
                throw ImagesError.system("\(path): gzip compression failed (zlib error \(code))", errno: 0)
            }
        }
    }
}
