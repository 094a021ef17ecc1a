import CZstd
import Glibc

/// Streaming zstd decompression over libzstd. Concatenated frames are one
/// stream (as zstd(1) and Go's decoders read them). The window a frame may
/// ask for is bounded, so a hostile header cannot claim gigabytes of memory.
final class ZstdDecoder: StreamDecompressor {
    private static let outputSize = 1 << 20
    /// 2^27 = 128 MiB: zstd's own default limit for decoders, which every
    /// frame written without --long or --ultra stays under.
    static let windowLogMax: Int32 = 27

    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    /// 0 from ZSTD_decompressStream: the last frame is complete.
    private var frameComplete = false
    private var sawInput = false

    init() throws {
        guard let context = ZSTD_createDStream() else {
            throw ImagesError.system("cannot start zstd decompression: out of memory", errno: ENOMEM)
        }
        self.context = context
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
        let code = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
        guard ZSTD_isError(code) == 0 else {
            ZSTD_freeDStream(context)
            output.deallocate()
            throw ImagesError.system("cannot start zstd decompression: \(Self.message(code))", errno: 0)
        }
    }

    deinit {
        ZSTD_freeDStream(context)
        output.deallocate()
    }

    func decompress(_ input: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        sawInput = true
        var source = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let code = ZSTD_decompressStream(context, &target, &source)
            guard ZSTD_isError(code) == 0 else {
                throw ImagesError.invalid("the zstd stream is corrupt: \(Self.message(code))")
            }
            if target.pos > 0 { try consume(UnsafeRawBufferPointer(rebasing: output[0..<target.pos])) }
            frameComplete = code == 0
            // Done when the input is used up and the decoder had nothing more
            // to flush (it filled less than the whole output block).
            if source.pos == source.size && target.pos < target.size { return }
        }
    }

    func finish(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard sawInput && frameComplete else { throw ImagesError.invalid("the zstd stream is truncated") }
    }

    private static func message(_ code: Int) -> String {
        guard let name = ZSTD_getErrorName(code) else { return "zstd error \(code)" }
        return String(cString: name)
    }
}
