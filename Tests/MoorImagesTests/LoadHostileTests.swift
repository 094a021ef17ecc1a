import Foundation
import Glibc
import Testing
@testable import MoorImages

/// Archives `docker load` must refuse: each with an error naming the
/// offending entry, leaving nothing behind (no staging directory, no layer,
/// no image, nothing outside the store).
@Suite("docker load: hostile archives")
struct LoadHostileTests {
    private func expectRefused(
        _ build: (StoreFixture) throws -> [UInt8], naming entry: String, saying reason: String? = nil,
        options: ImageStore.Options = ImageStore.Options(), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base, options: options)
            _ = try await fixture.store.importBytes(uniqueArchive("present"), reference: "present")
            let layersBefore = try fixture.layerDirectories()
            let archive = try build(fixture)
            let error = await #expect(throws: ImagesError.self, sourceLocation: sourceLocation) {
                try await fixture.store.loadBytes(archive, chunkSize: 1000)
            }
            let message = error?.message ?? ""
            #expect(error?.status == 400, "\(message)", sourceLocation: sourceLocation)
            if !entry.isEmpty { #expect(message.contains(entry), "\(message)", sourceLocation: sourceLocation) }
            if let reason { #expect(message.contains(reason), "\(message)", sourceLocation: sourceLocation) }
            #expect(try fixture.tmpContents().isEmpty, sourceLocation: sourceLocation)
            #expect(try fixture.layerDirectories() == layersBefore, sourceLocation: sourceLocation)
            #expect(try fixture.outsideContents().isEmpty, sourceLocation: sourceLocation)
            #expect(await fixture.store.images().map(\.repoTags) == [["present:latest"]], sourceLocation: sourceLocation)
        }
    }

    private func image(_ fill: (inout TarWriter) -> Void) -> TestImage {
        TestImage(layers: [ArchiveBuilder.layer { tar in
            tar.file("ok", "fine")
            fill(&tar)
        }], tags: ["hostile:1"])
    }

    /// From a layer's diff directory (tmp/load-*/layer-N/diff) up to the
    /// fixture's base: five levels.
    private let upToOutside = "../../../../../outside"

    @Test("a layer entry with \"..\"", arguments: ["docker", "oci"])
    func dotDot(layout: String) async throws {
        let bad = image { $0.file(upToOutside + "/escaped", "x") }
        try await expectRefused({ _ in
            layout == "docker" ? try ArchiveBuilder.dockerSave([bad]) : try ArchiveBuilder.ociLayout([bad])
        }, naming: "../../../../../outside/escaped", saying: "contains \"..\"")
    }

    @Test("a layer entry with an absolute path")
    func absolute() async throws {
        try await expectRefused({ fixture in
            try ArchiveBuilder.dockerSave([image { $0.file(fixture.outside + "/absolute", "x") }])
        }, naming: "/outside/absolute", saying: "absolute path")
    }

    @Test("a symlink, then an entry written through it")
    func throughSymlink() async throws {
        try await expectRefused({ fixture in
            try ArchiveBuilder.ociLayout([image { tar in
                tar.symlink("escape", to: fixture.outside)
                tar.file("escape/planted", "x")
            }])
        }, naming: "escape/planted", saying: "symbolic link")
    }

    @Test("a hardlink to a file outside the layer")
    func hardlinkOutside() async throws {
        try await expectRefused({ _ in
            try ArchiveBuilder.dockerSave([image { $0.hardlink("passwd", to: "../../../../../../../etc/passwd") }])
        }, naming: "passwd", saying: "contains \"..\"")
        try await expectRefused({ _ in
            try ArchiveBuilder.dockerSave([image { $0.hardlink("shadow", to: "/etc/shadow") }])
        }, naming: "shadow", saying: "absolute")
    }

    @Test("device nodes, even 0/0", arguments: [(false, 1, 3), (true, 8, 0), (false, 0, 0)])
    func devices(block: Bool, major: Int64, minor: Int64) async throws {
        try await expectRefused({ _ in
            try ArchiveBuilder.ociLayout([image { $0.device("dev/node", block: block, major: major, minor: minor) }])
        }, naming: "dev/node", saying: "device nodes are not allowed")
    }

    @Test("outer archive entries with \"..\", absolute paths or devices")
    func outerEntries() async throws {
        let good = image { _ in }
        try await expectRefused({ _ in
            try ArchiveBuilder.dockerSave([good]) { $0.file("../../outside/x", "x") }
        }, naming: "../../outside/x", saying: "contains \"..\"")
        try await expectRefused({ fixture in
            try ArchiveBuilder.dockerSave([good]) { $0.file(fixture.outside + "/y", "y") }
        }, naming: "/outside/y", saying: "absolute path")
        try await expectRefused({ _ in
            try ArchiveBuilder.dockerSave([good]) { $0.device("dev-null", major: 1, minor: 3) }
        }, naming: "dev-null", saying: "only files, directories and links")
    }

    @Test("a blob whose content does not match its digest")
    func blobDigestMismatch() async throws {
        try await expectRefused({ _ in
            let archive = try ArchiveBuilder.ociLayout([image { _ in }])
            // Same size, one byte changed inside the layer blob's content.
            let layer = try image { _ in }.layers[0]
            let digest = String(try sha256(layer).dropFirst(7))
            var changed = layer
            changed[600] ^= 0x01
            var tar = TarWriter()
            for name in try tarMembers(archive) where !name.hasSuffix("/") {
                tar.file(name, name.hasSuffix(digest) ? changed : try tarMember(archive, name))
            }
            tar.end()
            return tar.bytes
        }, naming: "blobs/sha256/", saying: "digest mismatch")
    }

    @Test("a layer whose diffID is not the one the config names")
    func diffIDMismatch() async throws {
        var lying = image { _ in }
        lying.diffIDs = ["sha256:" + String(repeating: "ab", count: 32)]
        try await expectRefused({ _ in try ArchiveBuilder.dockerSave([lying]) },
                                naming: "/layer.tar", saying: "digest mismatch")
    }

    @Test("a truncated archive, plain or compressed", arguments: [nil, "gzip", "xz", "zstd"])
    func truncated(compression: String?) async throws {
        let big = TestImage(layers: [ArchiveBuilder.layer { tar in
            // Incompressible, so the cut lands inside the layer however compressed.
            var state: UInt64 = 42
            tar.file("data", (0..<200_000).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            })
        }], tags: ["cut:1"])
        try await expectRefused({ _ in
            let archive = try ArchiveBuilder.dockerSave([big], compression: compression)
            return Array(archive.prefix(archive.count * 2 / 3))
        }, naming: "layer.tar", saying: "truncated")
    }

    @Test("a corrupt gzip stream")
    func corrupt() async throws {
        try await expectRefused({ _ in
            var archive = try ArchiveBuilder.dockerSave([image { _ in }], compression: "gzip")
            for index in 100..<min(400, archive.count - 8) { archive[index] ^= 0x5a }
            return archive
        }, naming: "", saying: "corrupt")
    }

    @Test("a manifest naming a layer (or config) that is not in the archive")
    func missingBlob() async throws {
        try await expectRefused({ _ in
            var tar = TarWriter()
            tar.file("config.json", try image { _ in }.config())
            tar.file("manifest.json", try ArchiveBuilder.json([
                ["Config": "config.json", "RepoTags": ["ghost:1"], "Layers": ["missing/layer.tar"]],
            ]))
            tar.end()
            return tar.bytes
        }, naming: "missing/layer.tar", saying: "not in the archive")
        try await expectRefused({ _ in
            var tar = TarWriter()
            tar.file("manifest.json", try ArchiveBuilder.json([["Config": "nowhere.json", "Layers": []]]))
            tar.end()
            return tar.bytes
        }, naming: "nowhere.json", saying: "not in the archive")
    }

    @Test("a symlink in the archive pointing outside it")
    func outerSymlinkEscape() async throws {
        try await expectRefused({ _ in
            var tar = TarWriter()
            tar.file("config.json", try image { _ in }.config())
            tar.symlink("layer.tar", to: "../../etc/passwd")
            tar.file("manifest.json", try ArchiveBuilder.json([
                ["Config": "config.json", "Layers": ["layer.tar"]],
            ]))
            tar.end()
            return tar.bytes
        }, naming: "layer.tar", saying: "points outside the archive")
    }

    @Test("absurd sizes: a declared size beyond the bound, and a decompression bomb")
    func absurdSizes() async throws {
        var small = ImageStore.Options()
        small.maxImportBytes = 1 << 20
        try await expectRefused({ _ in
            var tar = TarWriter()
            var header = TarWriter.Header("huge/layer.tar")
            header.size = 1 << 40
            header.base256Size = true
            tar.header(header)
            return tar.bytes
        }, naming: "huge/layer.tar", saying: "more than the import limit", options: small)
        // Small once compressed, beyond the bound once not: the whole
        // archive, then a layer inside a small archive.
        let bomb = TestImage(layers: [ArchiveBuilder.layer { tar in
            for index in 0..<40 { tar.file("zeros\(index)", [UInt8](repeating: 0, count: 100_000)) }
        }], tags: ["bomb:1"])
        try await expectRefused({ _ in try ArchiveBuilder.dockerSave([bomb], compression: "zstd") },
                                naming: "", saying: "limit of 1048576 bytes", options: small)
        try await expectRefused({ _ in try ArchiveBuilder.ociLayout([bomb], layerCompression: "zstd") },
                                naming: "blobs/sha256/", saying: "larger than the import limit", options: small)
    }

    @Test("an archive that is not an image archive")
    func notAnImage() async throws {
        try await expectRefused({ _ in uniqueArchive("plain rootfs") }, naming: "", saying: "not an image archive")
    }

    @Test("a body that fails midway (client gone) leaves nothing behind")
    func interrupted() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let archive = try ArchiveBuilder.dockerSave([TestImage(layers: [ArchiveBuilder.layer { tar in
                tar.file("data", [UInt8](repeating: 9, count: 300_000))
            }], tags: ["gone:1"])])
            await #expect(throws: CancellationError.self) {
                try await fixture.store.load(failing(after: Array(archive.prefix(200_000))))
            }
            #expect(try fixture.tmpContents().isEmpty)
            #expect(try fixture.layerDirectories().isEmpty)
        }
    }
}
