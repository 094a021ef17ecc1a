import Foundation
import Glibc
import Testing
@testable import MoorImages

@Suite("docker save")
struct SaveTests {
    /// The layer blob of `diffID` in a saved archive.
    private func layerBlob(_ archive: [UInt8], _ diffID: String) throws -> [UInt8] {
        try tarMember(archive, "blobs/sha256/" + diffID.dropFirst(7))
    }

    @Test("an imported layer comes back byte for byte (GNU and PAX tar, xattrs, long names, links)",
          arguments: ["gnu", "posix"])
    func exactLayer(format: String) async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let tree = base + "/tree"
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try TreeFixture.make(at: tree)
            let long = tree + "/" + String(repeating: "d", count: 120)
            try FileManager.default.createDirectory(atPath: long, withIntermediateDirectories: true)
            try TreeFixture.write(long + "/" + String(repeating: "f", count: 110), Array("long".utf8), mode: 0o644)
            let output = base + "/rootfs.tar"
            var arguments = ["--numeric-owner", "--format=\(format)", "-C", tree, "-cf", output, "."]
            if format == "posix" { arguments.insert("--xattrs", at: 0) }
            try run("/usr/bin/tar", arguments)
            let original = try readBytes(output)
            let id = try await fixture.store.importBytes(original, reference: "exact")
            let archive = try await fixture.store.saveBytes(["exact"])
            #expect(try layerBlob(archive, try await fixture.store.image(id).config.rootfs.diffIDs[0]) == original)
        }
    }

    @Test("entries replaced later in the same layer are still given back (file, directory, whiteout)")
    func replacedEntries() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let layer = ArchiveBuilder.layer { tar in
                tar.file("twice", "first version, longer")
                tar.directory("dir/")
                tar.file("dir/inner", "inside the first dir")
                tar.file("twice", "second")
                tar.file("dir", "a file where the directory was")
                tar.file("hidden", "written then whited out")
                tar.file(".wh.hidden", "")
                tar.file("kept", "kept")
            }
            let image = TestImage(layers: [layer], tags: ["replaced:1"])
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([image]))
            let diff = try await fixture.store.layerPaths("replaced:1")[0]
            #expect(try readBytes(diff + "/twice") == Array("second".utf8))
            #expect(try readBytes(diff + "/dir") == Array("a file where the directory was".utf8))
            let archive = try await fixture.store.saveBytes(["replaced:1"])
            #expect(try layerBlob(archive, try sha256(layer)) == layer)
        }
    }

    @Test("the archive has both layouts; another store loads it to the same images and files")
    func roundTrip() async throws {
        try await withTemporaryDirectory { base in
            let first = try StoreFixture(base: base + "/a")
            let second = try StoreFixture(base: base + "/b")
            let layers = [
                ArchiveBuilder.layer { tar in
                    tar.directory("etc/")
                    tar.file("etc/a", "a", mode: 0o600, uid: 12, gid: 34)
                    tar.directory("gone/")
                    tar.file("gone/x", "x")
                },
                ArchiveBuilder.layer { tar in
                    tar.file(".wh.gone", "")
                    tar.directory("etc/")
                    tar.file("etc/.wh..wh..opq", "")
                    tar.file("etc/b", "b")
                },
            ]
            let image = TestImage(layers: layers, tags: ["trip:1", "trip:2"])
            _ = try await first.store.loadBytes(try ArchiveBuilder.ociLayout([image]))
            let untagged = try await first.store.importBytes(uniqueArchive("untagged"))
            let archive = try await first.store.saveBytes(["trip", String(untagged.dropFirst(7).prefix(12))])
            let members = try tarMembers(archive)
            for name in ["index.json", "manifest.json", "oci-layout"] { #expect(members.contains(name)) }
            let manifest = try JSONSerialization.jsonObject(with: Data(try tarMember(archive, "manifest.json"))) as? [[String: Any]]
            #expect(manifest?.count == 2)
            #expect(manifest?.first?["RepoTags"] as? [String] == ["trip:1", "trip:2"])
            #expect(manifest?.last?["RepoTags"] == nil)
            // Every blob's name is its digest.
            for name in members where name.hasPrefix("blobs/sha256/") && name.count > 13 {
                #expect(try sha256(try tarMember(archive, name)) == "sha256:" + name.dropFirst(13))
            }
            let loaded = try await second.store.loadBytes(archive)
            #expect(loaded.map(\.id) == [try image.id(), untagged])
            #expect(loaded.first?.tags == ["trip:1", "trip:2"])
            let a = try await first.store.layerPaths("trip:1")
            let b = try await second.store.layerPaths("trip:1")
            for (left, right) in zip(a, b) {
                let problems = try TreeFixture.differences(left, right, nanoseconds: true)
                #expect(problems.isEmpty, "\(problems)")
            }
            #expect(TreeFixture.xattr(b[0] + "/etc", "trusted.overlay.opaque") == "y")
        }
    }

    @Test("a name without tag saves every tag of the repository; unknown names are 404 before any byte")
    func names() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            _ = try await fixture.store.importBytes(uniqueArchive("1"), reference: "repo:1")
            _ = try await fixture.store.importBytes(uniqueArchive("2"), reference: "repo:2")
            _ = try await fixture.store.importBytes(uniqueArchive("3"), reference: "other:1")
            let archive = try await fixture.store.saveBytes(["repo"])
            let manifest = try JSONSerialization.jsonObject(with: Data(try tarMember(archive, "manifest.json"))) as? [[String: Any]]
            #expect(manifest?.compactMap { ($0["RepoTags"] as? [String])?.first }.sorted() == ["repo:1", "repo:2"])
            let began = Collected()
            let error = await #expect(throws: ImagesError.self) {
                try await fixture.store.save(["repo:1", "nosuch:9"]) { _ in
                    await began.append([1])
                    return { _ in }
                }
            }
            #expect(error?.status == 404)
            #expect(await began.bytes.isEmpty)
        }
    }

    @Test("layers being saved are pinned: rmi meanwhile leaves them until the save ends")
    func pinnedDuringSave() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("pinned"), reference: "pinned")
            let plan = try await fixture.store.prepareExport(["pinned"])
            let items = try await fixture.store.remove("pinned")
            #expect(items == [.untagged("pinned:latest"), .deleted(id)])
            #expect(try fixture.layerDirectories().count == 1)
            await fixture.store.unpin(plan.layerIDs)
            #expect(try await fixture.store.pruneLayers(layerInUse: { _ in false }).count == 1)
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
