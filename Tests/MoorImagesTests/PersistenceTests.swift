import Foundation
import Testing
@testable import MoorImages

@Suite("store files and crash safety")
struct PersistenceTests {
    @Test("repositories.json has Docker's shape and everything reloads after reopening")
    func reload() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("p"), reference: "busybox")
            try await fixture.store.tag(id, as: "localhost:5000/app:2")
            let json = try JSONSerialization.jsonObject(with: Data(readBytes(fixture.root + "/repositories.json")))
            let repositories = (json as? [String: Any])?["Repositories"] as? [String: [String: String]]
            #expect(repositories == ["busybox": ["busybox:latest": id], "localhost:5000/app": ["localhost:5000/app:2": id]])
            #expect(try fixture.tmpContents().isEmpty, "atomic writes leave no temporary file")

            let reopened = try fixture.reopen()
            #expect(await reopened.images() == fixture.store.images())
            #expect(try await reopened.image("busybox").repoTags == ["busybox:latest", "localhost:5000/app:2"])
            #expect(try await reopened.layerPaths(id) == fixture.store.layerPaths(id))
            #expect(try await reopened.image(id).size == 1, "one byte of file content: the marker")
        }
    }

    @Test("a config that does not hash to its name, and a tag to a missing image, are ignored at load")
    func untrustedFiles() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("t"), reference: "good")
            let bogus = String(repeating: "e", count: 64)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: fixture.root + "/image/sha256/\(bogus).json"))
            let text = "{\"Repositories\":{\"good\":{\"good:latest\":\"\(id)\"},\"gone\":{\"gone:latest\":\"sha256:\(bogus)\"}}}"
            try Data(text.utf8).write(to: URL(fileURLWithPath: fixture.root + "/repositories.json"))
            let reopened = try fixture.reopen()
            #expect(await reopened.images().map(\.id) == [id])
            await #expect(throws: ImagesError.self) { try await reopened.resolve("gone") }
        }
    }

    @Test("sweepIncomplete removes what a killed import or removal left in tmp/")
    func sweep() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("kept"), reference: "kept")
            let tmp = fixture.root + "/tmp"
            // What a SIGKILL mid-import leaves: a partly unpacked tree, with
            // a symlink to make sure the sweep does not follow it.
            try FileManager.default.createDirectory(atPath: tmp + "/import-dead/diff/etc", withIntermediateDirectories: true)
            try Data("half".utf8).write(to: URL(fileURLWithPath: tmp + "/import-dead/diff/etc/file"))
            try Data("keep".utf8).write(to: URL(fileURLWithPath: fixture.outside + "/precious"))
            try FileManager.default.createSymbolicLink(atPath: tmp + "/import-dead/diff/out", withDestinationPath: fixture.outside)
            try Data("x".utf8).write(to: URL(fileURLWithPath: tmp + "/meta-0123"))
            try FileManager.default.createDirectory(atPath: tmp + "/delete-abc-1/diff", withIntermediateDirectories: true)

            let reopened = try fixture.reopen()
            #expect(try await reopened.sweepIncomplete() == ["delete-abc-1", "import-dead", "meta-0123"])
            #expect(try fixture.tmpContents().isEmpty)
            #expect(try fixture.outsideContents() == ["precious"])
            #expect(try await reopened.resolve("kept") == id)
            #expect(try await reopened.sweepIncomplete().isEmpty)
        }
    }

    @Test("a layer left without its image (killed between the two) is pruned unless in use")
    func orphanLayer() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("o"))
            let diffID = try await fixture.store.image(id).config.rootfs.diffIDs[0]
            try FileManager.default.removeItem(atPath: fixture.root + "/image/sha256/\(id.dropFirst(7)).json")
            let reopened = try fixture.reopen()
            #expect(try await reopened.pruneLayers(layerInUse: { $0 == diffID }).isEmpty)
            #expect(try await reopened.pruneLayers(layerInUse: { _ in false }) == [diffID])
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
