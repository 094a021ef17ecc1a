import Foundation
import Testing
@testable import MoorImages

@Suite("docker rmi")
struct RemoveTests {
    @Test("removing one of several tags only untags")
    func untagsOnly() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("u"), reference: "a:1")
            try await fixture.store.tag("a:1", as: "b:1")
            #expect(try await fixture.store.remove("a:1") == [.untagged("a:1")])
            #expect(try await fixture.store.image(id).repoTags == ["b:1"])
            #expect(try fixture.layerDirectories().count == 1)
        }
    }

    @Test("removing the last tag deletes the image and its layer")
    func lastTag() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("l"), reference: "busybox")
            let diffID = try await fixture.store.image(id).config.rootfs.diffIDs[0]
            let items = try await fixture.store.remove("busybox")
            #expect(items == [.untagged("busybox:latest"), .deleted(id), .deleted(diffID)])
            #expect(try fixture.layerDirectories().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: fixture.root + "/image/sha256/\(id.dropFirst(7)).json"))
            #expect(try fixture.tmpContents().isEmpty)
            await #expect(throws: ImagesError.noSuchImage("busybox:latest")) { try await fixture.store.remove("busybox") }
            let json = try JSONEncoder().encode(items)
            #expect(String(decoding: json, as: UTF8.self).contains("{\"Untagged\":\"busybox:latest\"}"))
        }
    }

    @Test("by ID, an image in several repositories needs force")
    func multipleRepositories() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("m"), reference: "a")
            try await fixture.store.tag(id, as: "b")
            let error = await #expect(throws: ImagesError.self) { try await fixture.store.remove(String(id.dropFirst(7).prefix(12))) }
            #expect(error?.status == 409)
            #expect(error?.message.contains("image is referenced in multiple repositories") == true)
            #expect(error?.message.contains("must be forced") == true)
            #expect(try await fixture.store.image(id).repoTags == ["a:latest", "b:latest"])
            let items = try await fixture.store.remove(id, force: true)
            #expect(items.prefix(3) == [.untagged("a:latest"), .untagged("b:latest"), .deleted(id)])
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }

    @Test("by ID, a single tag goes with the image")
    func byIDSingleTag() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("s"), reference: "solo:1")
            let items = try await fixture.store.remove(id)
            #expect(items.prefix(2) == [.untagged("solo:1"), .deleted(id)])
        }
    }

    @Test("a stopped container's image: conflict without force; forced, its layer stays while in use")
    func stoppedContainer() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("c"), reference: "used")
            let diffID = try await fixture.store.image(id).config.rootfs.diffIDs[0]
            let users: @Sendable (String) async -> [ImageUser] = { image in
                image == id ? [ImageUser(containerID: "0123456789abcdef", running: false)] : []
            }
            let inUse: @Sendable (String) async -> Bool = { $0 == diffID }
            let byName = await #expect(throws: ImagesError.self) { try await fixture.store.remove("used", users: users) }
            #expect(byName?.message == "conflict: unable to remove repository reference \"used\" (must force) - "
                + "container 0123456789ab is using its referenced image \(id.dropFirst(7).prefix(12))")
            let byID = await #expect(throws: ImagesError.self) { try await fixture.store.remove(id, users: users) }
            #expect(byID?.message.contains("image is being used by stopped container 0123456789ab") == true)
            #expect(try await fixture.store.resolve("used") == id)

            let items = try await fixture.store.remove("used", force: true, users: users, layerInUse: inUse)
            #expect(items == [.untagged("used:latest"), .deleted(id)])
            #expect(try fixture.layerDirectories() == [String(diffID.dropFirst(7))])
            // Once the container is gone, pruning removes the layer.
            #expect(try await fixture.store.pruneLayers(layerInUse: { _ in false }) == [diffID])
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }

    @Test("a running container's image: never deleted; forced by name it is only untagged")
    func runningContainer() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("run"), reference: "live")
            let users: @Sendable (String) async -> [ImageUser] = { _ in [ImageUser(containerID: "feedfacecafe0000", running: true)] }
            let byID = await #expect(throws: ImagesError.self) { try await fixture.store.remove(id, force: true, users: users) }
            #expect(byID?.status == 409)
            #expect(byID?.message.contains("(cannot be forced) - image is being used by running container feedfacecafe") == true)
            #expect(try await fixture.store.remove("live", force: true, users: users) == [.untagged("live:latest")])
            #expect(try await fixture.store.image(id).repoTags.isEmpty)
            #expect(try fixture.layerDirectories().count == 1)
        }
    }

    @Test("a layer shared by two images goes with the last of them")
    func sharedLayer() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let bytes = uniqueArchive("shared")
            let first = try await fixture.store.importBytes(bytes, reference: "one")
            let second = try await fixture.store.importBytes(bytes, reference: "two", changes: ["USER x"])
            let diffID = try await fixture.store.image(first).config.rootfs.diffIDs[0]
            #expect(try await fixture.store.remove("one") == [.untagged("one:latest"), .deleted(first)])
            #expect(try fixture.layerDirectories().count == 1)
            #expect(try await fixture.store.layerPaths(second).count == 1)
            #expect(try await fixture.store.remove("two") == [.untagged("two:latest"), .deleted(second), .deleted(diffID)])
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
