import Foundation
import Testing
@testable import MoorImages

@Suite("image prune and layer references")
struct PruneTests {
    @Test("filters: dangling, until (time, date, duration), label, label!, and bad ones")
    func filters() throws {
        let now = 1_700_000_000.0
        #expect(try ImagePruneFilters([:], now: now).danglingOnly)
        #expect(try !ImagePruneFilters(["dangling": ["false"]], now: now).danglingOnly)
        #expect(try ImagePruneFilters(["until": ["10m"]], now: now).until == now - 600)
        #expect(try ImagePruneFilters(["until": ["1h30m"]], now: now).until == now - 5400)
        #expect(try ImagePruneFilters(["until": ["1699999000"]], now: now).until == 1_699_999_000)
        #expect(try ImagePruneFilters(["until": ["2023-11-14T22:13:20Z"]], now: now).until == 1_700_000_000)
        #expect(try ImagePruneFilters(["until": ["2023-11-15T00:13:20+02:00"]], now: now).until == 1_700_000_000)
        #expect(try ImagePruneFilters(["until": ["2023-11-14"]], now: now).until == 1_699_920_000)
        for bad in [["dangling": ["maybe"]], ["until": ["soon"]], ["until": ["1h", "2h"]], ["reference": ["x"]]] {
            #expect(throws: ImagesError.self) { try ImagePruneFilters(bad, now: now) }
        }
    }

    @Test("dangling images go, tagged and used ones stay; SpaceReclaimed counts the layers removed")
    func pruneDangling() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let tagged = try await fixture.store.importBytes(uniqueArchive("tagged"), reference: "tagged")
            let dangling = try await fixture.store.importBytes(uniqueArchive("dangling"))
            let used = try await fixture.store.importBytes(uniqueArchive("used"))
            let danglingLayer = try await fixture.store.image(dangling).config.rootfs.diffIDs[0]
            let size = try await fixture.store.image(dangling).size
            let result = try await fixture.store.prune(try ImagePruneFilters([:], now: 0), users: { id in
                id == used ? [ImageUser(containerID: "c1", running: false)] : []
            })
            #expect(result.items == [.deleted(dangling), .deleted(danglingLayer)])
            #expect(result.reclaimed == size && size > 0)
            #expect(Set(await fixture.store.images().map(\.id)) == [tagged, used])
        }
    }

    @Test("dangling=false prunes tagged images too, with labels and until")
    func pruneAll() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let old = TestImage(layers: [uniqueArchive("old")], tags: ["old:1"], labels: ["tier": "web"],
                                created: "2020-01-01T00:00:00Z")
            let new = TestImage(layers: [uniqueArchive("new")], tags: ["new:1"], labels: ["tier": "web"],
                                created: "2030-01-01T00:00:00Z")
            let other = TestImage(layers: [uniqueArchive("other")], tags: ["other:1"], created: "2020-01-01T00:00:00Z")
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([old, new, other]))
            let filters = try ImagePruneFilters(["dangling": ["false"], "label": ["tier=web"], "until": ["2025-01-01T00:00:00Z"]],
                                                now: 0)
            let result = try await fixture.store.prune(filters)
            #expect(result.items.prefix(2) == [.untagged("old:1"), .deleted(try old.id())])
            #expect(Set(await fixture.store.images().flatMap(\.repoTags)) == ["new:1", "other:1"])
            let excluding = try ImagePruneFilters(["dangling": ["false"], "label!": ["tier"]], now: 0)
            let second = try await fixture.store.prune(excluding)
            #expect(second.items.first == .untagged("other:1"))
            #expect(await fixture.store.images().map(\.repoTags) == [["new:1"]])
        }
    }

    @Test("a layer shared by a loaded and an imported image goes with the last; a container's layer stays")
    func references() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let shared = uniqueArchive("shared")
            _ = try await fixture.store.importBytes(shared, reference: "imported")
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([
                TestImage(layers: [shared, uniqueArchive("top")], tags: ["loaded:1"]),
            ]))
            #expect(try fixture.layerDirectories().count == 2)
            _ = try await fixture.store.remove("imported")
            #expect(try fixture.layerDirectories().count == 2)
            let sharedID = try sha256(shared)
            _ = try await fixture.store.remove("loaded:1", layerInUse: { $0 == sharedID })
            #expect(try fixture.layerDirectories() == [String(sharedID.dropFirst(7))])
            #expect(try await fixture.store.pruneLayers(layerInUse: { _ in false }) == [sharedID])
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
