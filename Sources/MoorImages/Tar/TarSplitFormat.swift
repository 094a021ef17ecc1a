/// The store's record of a layer's original tar stream without the file
/// contents ("tar-split", the idea Docker uses): `docker save` must give back
/// the layer byte for byte, since its SHA-256 is the diffID the image config
/// names, and the unpacked files alone cannot say how the archive was laid
/// out (header formats, PAX records, padding, entry order).
///
/// `tar-split.gz` in the layer directory is a gzip stream of records, all
/// integers big-endian:
///
///     "MOORSPLIT1\n"                      magic
///     'R' u32 length, bytes               stream bytes kept verbatim
///     'F' u64 size, u32 length, path      `size` content bytes, read back
///                                         from `path` (relative to the
///                                         layer directory: "diff/bin/sh")
///     'E'                                 end (a cut-off record is detected)
///
/// A path that a later entry of the same layer replaced was moved to
/// `split-data/<n>` first; `tar-split.moves` lists those moves
/// (u64 file records written before the move, u32 + old path, u32 + new path)
/// so the reader finds the content where it went.
enum TarSplitFormat {
    static let fileName = "tar-split.gz"
    static let movesFileName = "tar-split.moves"
    static let dataDirectory = "split-data"
    static let magic = Array("MOORSPLIT1\n".utf8)

    static let rawTag = UInt8(ascii: "R")
    static let fileTag = UInt8(ascii: "F")
    static let endTag = UInt8(ascii: "E")

    /// Verbatim bytes are flushed as a record once this many are pending.
    static let rawFlushSize = 64 * 1024
    /// A reader refuses longer records (a corrupt file, not a big allocation).
    static let maxRecordSize = 16 << 20

    /// One move: file records numbered below `beforeRecord` whose path is
    /// `from` or under it now live under `to`.
    struct Move: Equatable {
        var beforeRecord: UInt64
        var from: [UInt8]
        var to: [UInt8]
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func integer(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func encode(_ moves: [Move]) -> [UInt8] {
        var bytes = [UInt8]()
        for move in moves {
            append(move.beforeRecord, to: &bytes)
            append(UInt32(move.from.count), to: &bytes)
            bytes += move.from
            append(UInt32(move.to.count), to: &bytes)
            bytes += move.to
        }
        return bytes
    }

    static func decodeMoves(_ bytes: [UInt8], subject: String) throws -> [Move] {
        var moves = [Move]()
        var offset = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, offset + count <= bytes.count else {
                throw ImagesError.system("\(subject): truncated move record", errno: 0)
            }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
        while offset < bytes.count {
            let before = integer(try take(8))
            let from = Array(try take(Int(integer(try take(4)))))
            let to = Array(try take(Int(integer(try take(4)))))
            moves.append(Move(beforeRecord: before, from: from, to: to))
        }
        return moves
    }
}
