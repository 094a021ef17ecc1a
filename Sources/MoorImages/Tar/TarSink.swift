/// Receives an archive's entries as `TarParser` reads them: a header, then
/// the content in pieces as they arrive, then the end of the entry.
protocol TarSink: AnyObject {
    func beginEntry(_ entry: TarEntry) throws
    /// A piece of the current entry's content (regular files only). The
    /// buffer is only valid during the call.
    func entryData(_ bytes: UnsafeRawBufferPointer) throws
    func endEntry() throws
}
