import Foundation
import Glibc
import Testing
@testable import MoorImages

@Suite("docker import")
struct ImportTests {
    /// Makes the fixture tree and archives it with GNU tar in `format`.
    private func archive(in base: String, format: String, gzip: Bool = false) throws -> (tree: String, bytes: [UInt8]) {
        let tree = base + "/tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try TreeFixture.make(at: tree)
        let output = base + (gzip ? "/rootfs.tar.gz" : "/rootfs.tar")
        // Extended attributes exist only in POSIX (PAX) archives.
        var arguments = ["--numeric-owner", "--format=\(format)", "-C", tree, "-cf", output, "."]
        if format == "posix" { arguments.insert("--xattrs", at: 0) }
        if gzip { arguments.insert("-z", at: 0) }
        try run("/usr/bin/tar", arguments)
        return (tree, try readBytes(output))
    }

    @Test("a GNU-format tarball unpacks to the same tree (modes, owners, mtimes, links, FIFO)")
    func plainImport() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let (tree, bytes) = try archive(in: base, format: "gnu")
            let id = try await fixture.store.importTarball(chunked(bytes, size: 1000), reference: "busybox")
            let diffID = try sha256(bytes)
            let record = try await fixture.store.image("busybox")
            #expect(record.id == id)
            #expect(record.config.rootfs.diffIDs == [diffID])
            let paths = try await fixture.store.layerPaths(id)
            #expect(paths == [fixture.root + "/layers/sha256/" + diffID.dropFirst(7) + "/diff"])
            let problems = try TreeFixture.differences(tree, paths[0], nanoseconds: false)
            #expect(problems.isEmpty, "\(problems)")
            let ls = try TreeFixture.lstatOf(paths[0] + "/bin/ls")
            let busybox = try TreeFixture.lstatOf(paths[0] + "/bin/busybox")
            #expect(ls.st_ino == busybox.st_ino, "bin/ls must be a hardlink of bin/busybox")
            #expect(try TreeFixture.lstatOf(paths[0]).st_mode & 0o7777 == 0o755)
            #expect(try fixture.tmpContents().isEmpty)
        }
    }

    @Test("a gzip tarball in PAX format: same tree to the nanosecond, xattrs, diffID of the uncompressed tar")
    func gzipImport() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let (tree, bytes) = try archive(in: base, format: "posix", gzip: true)
            #expect(bytes.starts(with: [0x1f, 0x8b]))
            let id = try await fixture.store.importTarball(chunked(bytes, size: 333))
            let uncompressed = try run("/usr/bin/gzip", ["-dc"], input: bytes)
            let record = try await fixture.store.image(id)
            #expect(record.config.rootfs.diffIDs == [try sha256(uncompressed)])
            let diff = try await fixture.store.layerPaths(id)[0]
            let problems = try TreeFixture.differences(tree, diff, nanoseconds: true)
            #expect(problems.isEmpty, "\(problems)")
            #expect(TreeFixture.xattr(diff + "/etc/passwd", "user.moor.test") == "value")
            #expect(record.repoTags.isEmpty)
        }
    }

    @Test("concatenated gzip members are one stream")
    func multiMemberGzip() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            var tar = TarWriter()
            tar.file("a", "first half")
            tar.file("b", "second half")
            tar.end()
            let half = tar.bytes.count / 2
            let first = try run("/usr/bin/gzip", ["-c"], input: Array(tar.bytes.prefix(half)))
            let second = try run("/usr/bin/gzip", ["-c"], input: Array(tar.bytes.dropFirst(half)))
            let id = try await fixture.store.importBytes(first + second)
            #expect(try await fixture.store.image(id).config.rootfs.diffIDs == [try sha256(tar.bytes)])
        }
    }

    @Test("the image ID is the SHA-256 of the stored config, which is Docker's image config")
    func imageID() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let bytes = uniqueArchive("id")
            let id = try await fixture.store.importBytes(bytes, changes: ["CMD [\"/bin/sh\"]"])
            let config = try await fixture.store.rawConfig(id)
            #expect(try sha256(config) == id)
            #expect(try readBytes(fixture.root + "/image/sha256/" + id.dropFirst(7) + ".json") == config)
            let json = try JSONSerialization.jsonObject(with: Data(config)) as? [String: Any]
            #expect(json?["os"] as? String == "linux")
            #expect(json?["architecture"] as? String == Platform.host.architecture)
            #expect(json?["comment"] as? String == "Imported from -")
            let rootfs = json?["rootfs"] as? [String: Any]
            #expect(rootfs?["type"] as? String == "layers")
            #expect(rootfs?["diff_ids"] as? [String] == [try sha256(bytes)])
            let inner = json?["config"] as? [String: Any]
            #expect(inner?["Cmd"] as? [String] == ["/bin/sh"])
            let history = json?["history"] as? [[String: Any]]
            #expect(history?.count == 1 && history?[0]["created"] as? String == json?["created"] as? String)
        }
    }

    @Test("message, platform and changes land in the config")
    func options() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importTarball(
                chunked(uniqueArchive("opts")), reference: "app:1",
                changes: ["ENV PATH=/bin", "WORKDIR /srv", "EXPOSE 80/tcp", "USER nobody"],
                message: "from a test", platform: "linux/arm/v7")
            let config = try await fixture.store.image("app:1").config
            #expect(try await fixture.store.resolve("app:1") == id)
            #expect(config.comment == "from a test")
            #expect(config.architecture == "arm" && config.variant == "v7")
            #expect(config.config?.env == ["PATH=/bin"])
            #expect(config.config?.workingDir == "/srv")
            #expect(config.config?.exposedPorts == ["80/tcp": EmptyObject()])
            #expect(config.config?.user == "nobody")
        }
    }

    @Test("importing the same content again reuses the layer")
    func layerReuse() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let bytes = uniqueArchive("same")
            let first = try await fixture.store.importBytes(bytes, reference: "one")
            let layer = try fixture.layerDirectories()
            let marker = try TreeFixture.lstatOf(fixture.root + "/layers/sha256/" + layer[0] + "/diff/etc/marker")
            let second = try await fixture.store.importBytes(bytes, reference: "two", changes: ["USER x"], chunkSize: 1)
            #expect(first != second)
            #expect(try fixture.layerDirectories() == layer)
            #expect(try await fixture.store.layerPaths(first) == fixture.store.layerPaths(second))
            let again = try TreeFixture.lstatOf(fixture.root + "/layers/sha256/" + layer[0] + "/diff/etc/marker")
            #expect(marker.st_ino == again.st_ino, "the layer must not have been unpacked a second time")
            #expect(try fixture.tmpContents().isEmpty)
        }
    }

    @Test("bad options are refused before the body is read")
    func badOptions() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let bytes = uniqueArchive("x")
            await #expect(throws: ImagesError.self) { try await fixture.store.importBytes(bytes, reference: "Bad:Name") }
            await #expect(throws: ImagesError.self) { try await fixture.store.importBytes(bytes, changes: ["FROM x"]) }
            await #expect(throws: ImagesError.self) {
                try await fixture.store.importTarball(chunked(bytes), platform: "windows/amd64")
            }
            #expect(try fixture.layerDirectories().isEmpty)
            #expect(await fixture.store.images().isEmpty)
        }
    }

    @Test("xz and zstd tarballs import like gzip ones; bzip2 is refused by name")
    func otherCompressions() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            for (program, name) in [("/usr/bin/xz", "xz"), ("/usr/bin/zstd", "zstd")] {
                let plain = uniqueArchive(name)
                let compressed = try run(program, ["-c"], input: plain)
                let id = try await fixture.store.importBytes(compressed, chunkSize: 100)
                #expect(try await fixture.store.image(id).config.rootfs.diffIDs == [try sha256(plain)])
            }
            let bzip2 = try run("/usr/bin/bzip2", ["-c"], input: uniqueArchive("bzip2"))
            let error = await #expect(throws: ImagesError.self) { try await fixture.store.importBytes(bzip2) }
            #expect(error?.message.contains("compressed with bzip2") == true)
            #expect(error?.status == 400)
            #expect(try fixture.tmpContents().isEmpty)
        }
    }

    @Test("a body that fails midway (client gone) leaves nothing behind")
    func interruptedBody() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            var tar = TarWriter()
            tar.file("big", [UInt8](repeating: 7, count: 100_000))
            tar.end()
            await #expect(throws: CancellationError.self) {
                try await fixture.store.importTarball(failing(after: Array(tar.bytes.prefix(50_000))))
            }
            #expect(try fixture.tmpContents().isEmpty)
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
