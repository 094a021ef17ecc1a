import Testing
@testable import MoorImages

@Suite("resolving and tagging images")
struct ResolveAndTagTests {
    @Test("by name, name:tag, full ID with and without sha256:, unique short ID")
    func resolution() async throws {
        try await withTemporaryDirectory { base in
            let store = try StoreFixture(base: base).store
            let id = try await store.importBytes(uniqueArchive("r"), reference: "busybox")
            let hex = String(id.dropFirst(7))
            for text in ["busybox", "busybox:latest", "docker.io/library/busybox", id, hex,
                         String(hex.prefix(12)), "sha256:" + hex.prefix(5)] {
                #expect(try await store.resolve(text) == id, "\(text)")
            }
            #expect(try await store.image("busybox").repoTags == ["busybox:latest"])
            let missing = await #expect(throws: ImagesError.self) { try await store.resolve("busybox:1") }
            #expect(missing == .notFound("No such image: busybox:1"))
            let unknown = await #expect(throws: ImagesError.self) { try await store.resolve("nothere") }
            #expect(unknown == .notFound("No such image: nothere:latest"))
            let bad = await #expect(throws: ImagesError.self) { try await store.resolve("Bad") }
            #expect(bad?.status == 400)
        }
    }

    @Test("an ambiguous ID prefix is not found; a tag wins over an ID prefix")
    func ambiguity() async throws {
        try await withTemporaryDirectory { base in
            let store = try StoreFixture(base: base).store
            // 17 IDs over 16 hex digits: two share their first digit.
            var ids = [String]()
            for index in 0..<17 {
                ids.append(try await store.importBytes(uniqueArchive("a"), changes: ["ENV n=\(index)"]))
            }
            let firsts = ids.map { $0.dropFirst(7).prefix(1) }
            guard let shared = firsts.first(where: { digit in firsts.filter { $0 == digit }.count > 1 }) else {
                Issue.record("no shared prefix among \(ids)")
                return
            }
            let error = await #expect(throws: ImagesError.self) { try await store.resolve(String(shared)) }
            #expect(error?.status == 404)
            #expect(error?.message.contains("matches") == true)
            try await store.tag(ids[0], as: String(shared))
            #expect(try await store.resolve(String(shared)) == ids[0])
        }
    }

    @Test("tag moves a tag, validates the target; untag leaves the image")
    func tagging() async throws {
        try await withTemporaryDirectory { base in
            let store = try StoreFixture(base: base).store
            let first = try await store.importBytes(uniqueArchive("1"), reference: "app:1")
            let second = try await store.importBytes(uniqueArchive("2"))
            try await store.tag("app:1", as: "localhost:5000/team/app:stable")
            #expect(try await store.image(first).repoTags == ["app:1", "localhost:5000/team/app:stable"])
            try await store.tag(second, as: "app:1")
            #expect(try await store.resolve("app:1") == second)
            #expect(try await store.image(first).repoTags == ["localhost:5000/team/app:stable"])
            for target in ["Upper", "app@sha256:" + String(repeating: "1", count: 64), "sha256:x", "app:-bad"] {
                let error = await #expect(throws: ImagesError.self) { try await store.tag(second, as: target) }
                #expect(error?.status == 400, "\(target)")
            }
            await #expect(throws: ImagesError.noSuchImage("missing:latest")) { try await store.tag("missing", as: "x") }
            #expect(try await store.untag("app:1") == .untagged("app:1"))
            #expect(try await store.image(second).repoTags.isEmpty)
            await #expect(throws: ImagesError.noSuchImage("app:1")) { try await store.untag("app:1") }
        }
    }

    @Test("layer paths are the layers' diff directories, top-most first")
    func layerPaths() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(uniqueArchive("lp"))
            let diffID = try await fixture.store.image(id).config.rootfs.diffIDs[0]
            #expect(try await fixture.store.layerPaths(id) == [fixture.root + "/layers/sha256/\(diffID.dropFirst(7))/diff"])
            await #expect(throws: ImagesError.self) { try await fixture.store.layerPaths("sha256:" + String(repeating: "0", count: 64)) }
        }
    }
}
