import CZlib
import MoorPluginKit

/// Writes a file's content as gzip (one member, zlib's default level), as
/// dockerd compresses rotated log files: `gzip -d` and `zcat` read it.
/// Memory stays at two buffers and zlib's state whatever the file's size.
enum GzipCompressor {
    static let chunkSize = 1 << 16

    /// Compresses all of `source` into `target`, which the caller syncs.
    static func compress(_ source: PosixFile, into target: PosixFile) throws {
        // zlib keeps a pointer back to its z_stream, so it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer {
            stream.deallocate()
            input.deallocate()
            output.deallocate()
        }
        let started = moor_deflate_init_gzip(stream)
        guard started == Z_OK else { throw failure(stream, started, target.path) }
        defer { deflateEnd(stream) }
        var offset: Int64 = 0
        var flush = Z_NO_FLUSH
        while flush != Z_FINISH {
            let count = try source.read(at: offset, into: input)
            offset += Int64(count)
            flush = count == 0 ? Z_FINISH : Z_NO_FLUSH
            stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = UInt32(count)
            try drain(stream, flush, output, into: target)
        }
    }

    /// Runs deflate until it has taken all its input (and, when finishing,
    /// written the trailer), writing each full output buffer as it goes.
    private static func drain(_ stream: UnsafeMutablePointer<z_stream>, _ flush: Int32,
                              _ output: UnsafeMutableRawBufferPointer, into target: PosixFile) throws {
        while true {
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count)
            let code = deflate(stream, flush)
            // Z_BUF_ERROR only says no progress was possible: no input left.
            guard code == Z_OK || code == Z_STREAM_END || (code == Z_BUF_ERROR && flush != Z_FINISH) else {
                throw failure(stream, code, target.path)
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            try target.write(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
            let done = flush == Z_FINISH ? code == Z_STREAM_END : stream.pointee.avail_out > 0
            if done { return }
        }
    }

    private static func failure(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32, _ path: String) -> LogDriverError {
        let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
        return .storage("gzip compression into \(path): \(message)")
    }
}
