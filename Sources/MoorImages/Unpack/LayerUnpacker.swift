import Glibc
import Logging

/// Unpacks a tar stream into a layer directory, refusing everything that
/// could reach outside it or that a layer must not hold:
/// - absolute paths and ".." components (a leading "./" is fine);
/// - any entry whose parent, resolved inside the layer, is a symbolic link
///   (nothing is ever followed: see `DirectoryWalker`);
/// - hardlinks whose target is outside the layer or not unpacked yet;
/// - character and block devices (FIFOs are kept);
/// - trusted.overlay.* extended attributes, which would change what
///   overlayfs shows (they are dropped).
/// Modes, owners, times, symlinks, hardlinks and PAX xattrs are preserved.
/// Whiteouts (.wh.*) are kept as plain files or converted to overlayfs'
/// format (`WhiteoutFormat`). A later entry with the path of an earlier one
/// replaces it, as Docker's unpacking does. With a `TarSplitRecorder`, the
/// stream is recorded so `docker save` can give it back byte for byte.
final class LayerUnpacker: TarSink {
    private let walker: DirectoryWalker
    private let metadata: EntryMetadata
    private let whiteouts: WhiteoutFormat
    private let recorder: TarSplitRecorder
    private let replaced: ReplacedEntries
    private let writer = BufferedFileWriter()
    /// The parent directory of the previous entry: archives list a
    /// directory's files together, so most entries reuse it.
    private var parentPath: [[UInt8]]?
    private var parentFD: Int32 = -1
    private var file: (fd: Int32, entry: TarEntry)?
    /// Directory times are set at the end: writing into a directory
    /// changes its mtime.
    private var directoryTimes = [(path: [[UInt8]], entry: TarEntry)]()
    private var skippedXattrs = 0

    /// Bytes of regular-file content written (hardlinks count once).
    private(set) var contentBytes: Int64 = 0

    /// `rootFD` is the layer's (empty) diff directory and `layerFD` its
    /// parent (the layer directory, where replaced entries are moved);
    /// both stay the caller's.
    init(rootFD: Int32, layerFD: Int32, recorder: TarSplitRecorder, logger: Logger, whiteouts: WhiteoutFormat = .keep) {
        walker = DirectoryWalker(rootFD: rootFD)
        metadata = EntryMetadata(changeOwner: geteuid() == 0, logger: logger)
        self.whiteouts = whiteouts
        self.recorder = recorder
        replaced = ReplacedEntries(layerFD: layerFD, recorder: recorder)
    }

    deinit {
        if let file { closeFD(file.fd) }
        closeFD(parentFD)
    }

    func beginEntry(_ entry: TarEntry) throws {
        let components = try EntryPath.components(entry.path, entry: entry.name)
        guard let leaf = components.last else {
            // The layer root ("./"): Docker ignores its header, so does moor.
            if entry.kind == .directory { return }
            throw ImagesError.badEntry(entry.name, "only a directory may name the layer root")
        }
        if entry.kind == .charDevice || entry.kind == .blockDevice {
            let type = entry.kind == .charDevice ? "character" : "block"
            throw ImagesError.badEntry(entry.name, "\(type) device \(entry.deviceMajor):\(entry.deviceMinor): "
                + "device nodes are not allowed in an image layer")
        }
        if whiteouts == .overlay, let whiteout = try Whiteout.classify(components, entry: entry.name) {
            try convert(whiteout, components: components, entry: entry)
            return
        }
        let parent = try parentDirectory(components.dropLast(), entry: entry.name)
        let name = cPath(leaf)
        try clearPlace(parent, name, path: components, for: entry)
        switch entry.kind {
        case .file: try createFile(parent, name, entry, path: components)
        case .directory: try createDirectory(parent, name, entry, path: components)
        case .symlink: try createSymlink(parent, name, entry)
        case .hardlink: try createHardlink(parent, name, entry)
        case .fifo: try createFifo(parent, name, entry)
        case .charDevice, .blockDevice: return
        }
    }

    /// A whiteout entry under the overlay format: its content (if any) is
    /// not stored; the tar-split record keeps it.
    private func convert(_ whiteout: Whiteout, components: [[UInt8]], entry: TarEntry) throws {
        switch whiteout {
        case .skip:
            return
        case .opaque:
            let directory = try parentDirectory(components.dropLast(), entry: entry.name)
            try Whiteout.markOpaque(directory, entry: entry.name)
        case let .hide(target):
            let parent = try parentDirectory(components.dropLast(), entry: entry.name)
            let name = cPath(target)
            try clearPlace(parent, name, path: Array(components.dropLast()) + [target], for: entry)
            try Whiteout.createDevice(parent, name, for: entry, changeOwner: metadata.changeOwner)
        }
    }

    func entryData(_ bytes: UnsafeRawBufferPointer) throws {
        // Content of an entry not stored as a file (a whiteout's) is dropped.
        guard file != nil else { return }
        try writer.append(bytes)
    }

    func endEntry() throws {
        guard let (fd, entry) = file else { return }
        file = nil
        defer { closeFD(fd) }
        try writer.flush()
        skippedXattrs += try metadata.apply(fd: fd, entry, times: true)
        contentBytes += entry.size
    }

    /// Sets directory times once everything is written; returns how many
    /// extended attributes were skipped (see `EntryMetadata`).
    func finish() throws -> Int {
        for (path, entry) in directoryTimes {
            // The tree may have changed since (a later entry replaced a
            // parent); such a directory is gone and has no time to set.
            guard let parent = try? parentDirectory(path.dropLast(), entry: entry.name, create: false),
                  let leaf = path.last else { continue }
            let stamps = EntryMetadata.times(entry)
            _ = sysErrno { utimensat(parent, cPath(leaf), stamps, AT_SYMLINK_NOFOLLOW) }
        }
        return skippedXattrs
    }

    /// The parent directory's descriptor, borrowed from the cache.
    private func parentDirectory(_ path: ArraySlice<[UInt8]>, entry: String, create: Bool = true) throws -> Int32 {
        if let cached = parentPath, cached.elementsEqual(path) { return parentFD }
        let fd = try walker.open(path, create: create, entry: entry)
        closeFD(parentFD)
        parentFD = fd
        parentPath = Array(path)
        return fd
    }

    /// Removes what an earlier entry left at this path, unless both are
    /// directories (then the new header only updates the metadata). A
    /// replaced file or directory is moved aside, not deleted: the recorded
    /// stream still refers to its content.
    private func clearPlace(_ parent: Int32, _ name: [CChar], path: [[UInt8]], for entry: TarEntry) throws {
        var info = stat()
        let code = sysErrno { fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) }
        if code == ENOENT { return }
        if code != 0 { throw ImagesError.entryFailure("fstatat", entry.name, errno: code) }
        let type = info.st_mode & S_IFMT
        let isDirectory = type == S_IFDIR
        if isDirectory && entry.kind == .directory { return }
        if isDirectory || type == S_IFREG {
            // The cached parent may lie inside what moves: look it up again.
            if isDirectory { parentPath = nil }
            try replaced.move(parent, name, path: path, entry: entry.name)
            return
        }
        try sysEntry("unlinkat", entry.name) { unlinkat(parent, name, 0) }
    }

    private func createFile(_ parent: Int32, _ name: [CChar], _ entry: TarEntry, path: [[UInt8]]) throws {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let fd = try sysEntry("openat", entry.name) { openat(parent, name, flags, 0o600) }
        file = (fd, entry)
        try recorder.storedFile(path: Array("diff/".utf8) + Array(path.joined(separator: [UInt8(ascii: "/")])),
                                size: entry.size)
        writer.start(fd: fd, entry: entry.name)
    }

    private func createDirectory(_ parent: Int32, _ name: [CChar], _ entry: TarEntry, path: [[UInt8]]) throws {
        let code = sysErrno { mkdirat(parent, name, 0o700) }
        if code != 0 && code != EEXIST { throw ImagesError.entryFailure("mkdirat", entry.name, errno: code) }
        let fd = try sysEntry("openat", entry.name) {
            openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        defer { closeFD(fd) }
        skippedXattrs += try metadata.apply(fd: fd, entry, times: false)
        directoryTimes.append((path, entry))
    }

    private func createSymlink(_ parent: Int32, _ name: [CChar], _ entry: TarEntry) throws {
        // The target is stored, never resolved here.
        try sysEntry("symlinkat", entry.name) { symlinkat(cPath(entry.linkTarget), parent, name) }
        skippedXattrs += try metadata.apply(parentFD: parent, leaf: name, entry)
    }

    private func createFifo(_ parent: Int32, _ name: [CChar], _ entry: TarEntry) throws {
        try sysEntry("mkfifoat", entry.name) { mkfifoat(parent, name, 0o600) }
        skippedXattrs += try metadata.apply(parentFD: parent, leaf: name, entry)
    }

    /// A hardlink shares its target's inode, whose metadata came with the
    /// target's own entry, so the link's header adds nothing to apply.
    private func createHardlink(_ parent: Int32, _ name: [CChar], _ entry: TarEntry) throws {
        let role = "hardlink target"
        let target = try EntryPath.components(entry.linkTarget, entry: entry.name, role: role)
        guard let leaf = target.last else {
            throw ImagesError.badEntry(entry.name, "a hardlink to the layer root is not allowed")
        }
        let targetParent = try walker.open(target.dropLast(), create: false, entry: entry.name, role: role)
        defer { closeFD(targetParent) }
        let targetName = cPath(leaf)
        var info = stat()
        let code = sysErrno { fstatat(targetParent, targetName, &info, AT_SYMLINK_NOFOLLOW) }
        let shown = displayPath(entry.linkTarget)
        if code == ENOENT {
            throw ImagesError.badEntry(entry.name, "hardlink target \"\(shown)\" is not in the layer "
                + "(a link must follow the entry it points to)")
        }
        if code != 0 { throw ImagesError.entryFailure("fstatat", entry.name, errno: code) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw ImagesError.badEntry(entry.name, "hardlink target \"\(shown)\" is a directory")
        }
        // Flags 0: a target that is a symlink is linked, not followed.
        try sysEntry("linkat", entry.name) { linkat(targetParent, targetName, parent, name, 0) }
    }
}
