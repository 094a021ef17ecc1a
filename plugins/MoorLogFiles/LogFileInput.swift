/// The bytes of one log file as a format's reader sees them: a plain file,
/// or a rotated file compressed with gzip and inflated as it is read.
///
/// Reading forwards (each `read` starting where the previous one ended) is
/// what a compressed file does cheaply; reading it backwards starts the
/// decompression over, so backward scans (the writer's recovery of its
/// current file) take a `PosixFile`, which is never compressed.
public protocol LogFileInput: AnyObject {
    /// The file's path, for messages.
    var path: String { get }
    /// Up to `count` bytes of the file's content at `offset`; fewer only at
    /// the end. Throws `LogDriverError.storage` naming the path.
    func read(at offset: Int64, count: Int) throws -> [UInt8]
}

extension PosixFile: LogFileInput {}
