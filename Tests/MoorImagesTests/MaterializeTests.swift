import Foundation
import Glibc
import Testing
@testable import MoorImages

/// The vfs storage driver's copy: the merged view overlayfs would give.
@Suite("materialize")
struct MaterializeTests {
    private func load(_ layers: [[UInt8]], into fixture: StoreFixture, tag: String = "m:1") async throws {
        _ = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([TestImage(layers: layers, tags: [tag])]))
    }

    @Test("whiteouts delete, opaque directories hide the layers below, upper layers win")
    func mergedView() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            try await load([
                ArchiveBuilder.layer { tar in
                    tar.directory("a/")
                    tar.file("a/keep", "keep")
                    tar.file("a/gone", "gone")
                    tar.directory("d/")
                    tar.file("d/old", "old")
                    tar.directory("d/sub/")
                    tar.file("d/sub/older", "older")
                    tar.file("replaced", "lower")
                    tar.directory("becomes-file/")
                    tar.file("becomes-file/x", "x")
                    tar.directory("gone-dir/")
                    tar.file("gone-dir/y", "y")
                },
                ArchiveBuilder.layer { tar in
                    tar.file("a/.wh.gone", "")
                    tar.file("d/.wh..wh..opq", "")
                    tar.file("d/new", "new")
                    tar.file("replaced", "upper")
                    tar.file("becomes-file", "now a file")
                    tar.file(".wh.gone-dir", "")
                },
            ], into: fixture)
            let target = base + "/rootfs"
            try await fixture.store.materialize("m:1", into: target)
            #expect(try TreeFixture.paths(target) == ["a", "a/keep", "becomes-file", "d", "d/new", "replaced"])
            #expect(try readBytes(target + "/replaced") == Array("upper".utf8))
            #expect(try readBytes(target + "/becomes-file") == Array("now a file".utf8))
            #expect(TreeFixture.xattr(target + "/d", "trusted.overlay.opaque") == nil)
            #expect(try fixture.tmpContents().isEmpty)
        }
    }

    @Test("modes, owners, times, xattrs, symlinks, hardlinks and FIFOs are kept")
    func metadata() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let tree = base + "/tree"
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try TreeFixture.make(at: tree)
            let output = base + "/rootfs.tar"
            try run("/usr/bin/tar", ["--xattrs", "--numeric-owner", "--format=posix", "-C", tree, "-cf", output, "."])
            let id = try await fixture.store.importBytes(try readBytes(output))
            let target = base + "/copy"
            try await fixture.store.materialize(id, into: target)
            let problems = try TreeFixture.differences(tree, target, nanoseconds: true)
            #expect(problems.isEmpty, "\(problems)")
            #expect(try TreeFixture.lstatOf(target + "/bin/ls").st_ino == (try TreeFixture.lstatOf(target + "/bin/busybox").st_ino))
            #expect(try TreeFixture.lstatOf(target + "/run/initctl").st_mode & S_IFMT == S_IFIFO)
            #expect(TreeFixture.xattr(target + "/etc/passwd", "user.moor.test") == "value")
            #expect(try TreeFixture.lstatOf(target).st_mode & 0o7777 == 0o755)
        }
    }

    @Test("a hardlink whose names are not UTF-8 is copied as a link to the same bytes")
    func nonUTF8Hardlink() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let first: [UInt8] = Array("dir/caf".utf8) + [0xE9]      // Latin-1 "café"
            let second: [UInt8] = Array("dir/na".utf8) + [0xEF, 0x76, 0x65] // Latin-1 "naïve"
            try await load([
                ArchiveBuilder.layer { tar in
                    tar.directory("dir/")
                    var file = TarWriter.Header("")
                    file.name = first
                    file.size = 5
                    tar.header(file)
                    tar.data(Array("bytes".utf8))
                    var link = TarWriter.Header("", typeflag: "1")
                    link.name = second
                    link.linkname = first
                    tar.header(link)
                },
            ], into: fixture)
            let target = base + "/rootfs"
            try await fixture.store.materialize("m:1", into: target)
            var one = stat(), two = stat()
            #expect(lstat(cPath(Array(target.utf8) + [UInt8(ascii: "/")] + first), &one) == 0)
            #expect(lstat(cPath(Array(target.utf8) + [UInt8(ascii: "/")] + second), &two) == 0)
            #expect(one.st_ino == two.st_ino && one.st_nlink == 2)
        }
    }

    @Test("an image's symlink never leads the copy outside the target")
    func hostileSymlink() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            try await load([
                ArchiveBuilder.layer { tar in
                    tar.symlink("etc", to: fixture.outside)
                    tar.symlink("up", to: "../../outside")
                },
                ArchiveBuilder.layer { tar in
                    tar.directory("etc/")
                    tar.file("etc/passwd", "container's own")
                    tar.directory("up/")
                    tar.file("up/planted", "x")
                },
            ], into: fixture)
            let target = base + "/rootfs"
            try await fixture.store.materialize("m:1", into: target)
            #expect(try fixture.outsideContents().isEmpty)
            #expect(try readBytes(target + "/etc/passwd") == Array("container's own".utf8))
            #expect(try TreeFixture.lstatOf(target + "/up").st_mode & S_IFMT == S_IFDIR)
        }
    }

    @Test("an existing target or a missing image fails, leaving no partial copy")
    func failures() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            await #expect(throws: ImagesError.noSuchImage("nosuch:latest")) {
                try await fixture.store.materialize("nosuch", into: base + "/x")
            }
            #expect(!FileManager.default.fileExists(atPath: base + "/x"))
            _ = try await fixture.store.importBytes(uniqueArchive("e"), reference: "e")
            try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: false)
            try Data("mine".utf8).write(to: URL(fileURLWithPath: base + "/exists/file"))
            await #expect(throws: ImagesError.self) { try await fixture.store.materialize("e", into: base + "/exists") }
            #expect(try readBytes(base + "/exists/file") == Array("mine".utf8), "a directory it did not make stays")
        }
    }
}
