import Foundation
import Glibc
import Testing
@testable import MoorImages

/// Three layers: a base, a change, and whiteouts over the base.
private func threeLayers(_ marker: String = "") -> [[UInt8]] {
    let base = ArchiveBuilder.layer { tar in
        tar.directory("etc/")
        tar.file("etc/os-release", "ID=test\(marker)\n")
        tar.directory("a/")
        tar.file("a/keep", "keep")
        tar.file("a/gone", "gone")
        tar.directory("d/")
        tar.file("d/old", "old")
        tar.directory("d/sub/")
        tar.file("d/sub/older", "older")
    }
    let change = ArchiveBuilder.layer { tar in
        tar.directory("bin/")
        tar.file("bin/tool", "#!/bin/sh\n", mode: 0o755)
        tar.symlink("bin/alias", to: "tool")
    }
    let whiteouts = ArchiveBuilder.layer { tar in
        tar.file("a/.wh.gone", "")
        tar.directory("d/")
        tar.file("d/.wh..wh..opq", "")
        tar.file("d/new", "new")
    }
    return [base, change, whiteouts]
}

@Suite("docker load")
struct LoadTests {
    @Test("docker save and OCI layouts, plain and compressed (archive and layers), give the same image",
          arguments: ["docker", "oci"], [nil, "gzip", "xz", "zstd"])
    func layouts(layout: String, compression: String?) async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let image = TestImage(layers: threeLayers(), tags: ["example/app:1.0"])
            let archive = layout == "docker"
                ? try ArchiveBuilder.dockerSave([image], layerCompression: compression, compression: compression)
                : try ArchiveBuilder.ociLayout([image], layerCompression: compression, compression: compression)
            let loaded = try await fixture.store.loadBytes(archive, chunkSize: 777)
            #expect(loaded.count == 1)
            #expect(loaded.first?.id == (try image.id()))
            #expect(loaded.first?.tags == ["example/app:1.0"])
            #expect(loaded.first?.messages == ["Loaded image: example/app:1.0"])
            let record = try await fixture.store.image("example/app:1.0")
            #expect(record.config.rootfs.diffIDs == (try image.layers.map(sha256)))
            #expect(try await fixture.store.rawConfig(record.id) == (try image.config()))
            #expect(try fixture.layerDirectories().count == 3)
            #expect(try fixture.tmpContents().isEmpty)
            if layout == "oci" {
                #expect(record.repoDigests.count == 1 && record.repoDigests[0].hasPrefix("example/app@sha256:"))
            } else {
                #expect(record.repoDigests.isEmpty, "dockerd records no digest for a docker save archive")
            }
        }
    }

    @Test("whiteouts become overlayfs whiteouts: a 0/0 character device, an opaque directory")
    func whiteoutConversion() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let image = TestImage(layers: threeLayers(), tags: ["wh:1"])
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([image]))
            let top = try await fixture.store.layerPaths("wh:1")[0]
            let device = try TreeFixture.lstatOf(top + "/a/gone")
            #expect(device.st_mode & S_IFMT == S_IFCHR && device.st_rdev == 0)
            #expect(!FileManager.default.fileExists(atPath: top + "/a/.wh.gone"))
            #expect(TreeFixture.xattr(top + "/d", "trusted.overlay.opaque") == "y")
            #expect(!FileManager.default.fileExists(atPath: top + "/d/.wh..wh..opq"))
            #expect(try TreeFixture.paths(top) == ["a", "a/gone", "d", "d/new"])
        }
    }

    @Test("docker import keeps .wh. files as they are (a bottom layer hides nothing)")
    func importKeepsWhiteouts() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let id = try await fixture.store.importBytes(threeLayers()[2])
            let diff = try await fixture.store.layerPaths(id)[0]
            #expect(FileManager.default.fileExists(atPath: diff + "/a/.wh.gone"))
            #expect(FileManager.default.fileExists(atPath: diff + "/d/.wh..wh..opq"))
        }
    }

    @Test("several images in one archive, sharing layers: each layer stored once")
    func sharedLayers() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let layers = threeLayers("shared")
            let first = TestImage(layers: Array(layers.prefix(2)), tags: ["one:latest"])
            let second = TestImage(layers: layers, tags: ["two:latest", "two:alias"])
            for archive in [try ArchiveBuilder.dockerSave([first, second]), try ArchiveBuilder.ociLayout([first, second])] {
                let loaded = try await fixture.store.loadBytes(archive)
                #expect(loaded.map(\.tags) == [["one:latest"], ["two:latest", "two:alias"]])
                #expect(try fixture.layerDirectories().count == 3)
                let paths = try await fixture.store.layerPaths("two:alias")
                #expect(Array(paths.suffix(2)) == (try await fixture.store.layerPaths("one")))
            }
        }
    }

    @Test("a layer the store has is reused, not unpacked again")
    func storedLayerReused() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let layers = threeLayers("reuse")
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.ociLayout([TestImage(layers: [layers[0]], tags: ["base:1"])]))
            let diff = try await fixture.store.layerPaths("base:1")[0]
            let before = try TreeFixture.lstatOf(diff + "/etc/os-release")
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.ociLayout([TestImage(layers: layers, tags: ["full:1"])]))
            let after = try TreeFixture.lstatOf(diff + "/etc/os-release")
            #expect(before.st_ino == after.st_ino)
            #expect(try await fixture.store.layerPaths("full:1").last == diff)
            #expect(try fixture.layerDirectories().count == 3)
        }
    }

    @Test("tags move to the loaded image, reported as dockerd words it; untagged images by ID")
    func tagsAndMessages() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let old = try await fixture.store.importBytes(uniqueArchive("old"), reference: "app:latest")
            let image = TestImage(layers: [threeLayers()[0]], tags: ["app:latest"])
            let loaded = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([image]))
            #expect(loaded.first?.messages == [
                "The image app:latest already exists, renaming the old one with ID \(old) to empty string",
                "Loaded image: app:latest",
            ])
            #expect(try await fixture.store.resolve("app") == (try image.id()))
            #expect(try await fixture.store.image(old).repoTags.isEmpty)
            let untagged = TestImage(layers: [threeLayers("x")[0]])
            let second = try await fixture.store.loadBytes(try ArchiveBuilder.ociLayout([untagged]))
            #expect(second.first?.messages == ["Loaded image ID: \(try untagged.id())"])
            // Loading the same archive again changes nothing and says the same.
            let again = try await fixture.store.loadBytes(try ArchiveBuilder.dockerSave([image]))
            #expect(again.first?.messages == ["Loaded image: app:latest"])
        }
    }

    @Test("progress: each layer's bytes, ending at its size")
    func progress() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let big = ArchiveBuilder.layer { $0.file("big", [UInt8](repeating: 1, count: 3 << 20)) }
            let events = Collected()
            let image = TestImage(layers: [big], tags: ["big:1"])
            _ = try await fixture.store.loadBytes(try ArchiveBuilder.ociLayout([image]), chunkSize: 65536) { event in
                await events.append(Array("\(event.id) \(event.current) \(event.total)\n".utf8))
            }
            let lines = String(decoding: await events.bytes, as: UTF8.self).split(separator: "\n")
            let id = String(try sha256(big).dropFirst(7).prefix(12))
            #expect(lines.count >= 3)
            #expect(lines.allSatisfy { $0.hasPrefix(id + " ") })
            #expect(lines.last == "\(id) \(big.count) \(big.count)")
        }
    }

    @Test("docker save's symlinked legacy layer.tar and a manifest naming links resolve")
    func links() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let layer = threeLayers("links")[0]
            let image = TestImage(layers: [layer], tags: ["linked:1"])
            let digest = String(try sha256(layer).dropFirst(7))
            var tar = TarWriter()
            tar.directory("blobs/sha256/")
            tar.file("blobs/sha256/" + digest, layer)
            tar.directory("legacy/")
            tar.symlink("legacy/layer.tar", to: "../blobs/sha256/" + digest)
            tar.file("config.json", try image.config())
            tar.file("manifest.json", try ArchiveBuilder.json([
                ["Config": "config.json", "RepoTags": ["linked:1"], "Layers": ["legacy/layer.tar"]],
            ]))
            tar.end()
            _ = try await fixture.store.loadBytes(tar.bytes)
            #expect(try await fixture.store.image("linked:1").id == (try image.id()))
        }
    }

    @Test("a multi-platform OCI index: this host's image is loaded")
    func platformIndex() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            let image = TestImage(layers: [threeLayers("idx")[0]])
            let single = try ArchiveBuilder.ociLayout([image])
            // Re-wrap: index.json → an image index listing it for this host
            // and a missing image for another platform.
            let index = try JSONSerialization.jsonObject(with: Data(try tarMember(single, "index.json"))) as? [String: Any]
            let manifests = index?["manifests"] as? [[String: Any]] ?? []
            var child = manifests[0]
            child["platform"] = ["os": "linux", "architecture": Platform.host.architecture]
            let other: [String: Any] = ["mediaType": "application/vnd.oci.image.manifest.v1+json",
                                        "digest": "sha256:" + String(repeating: "0", count: 64), "size": 10,
                                        "platform": ["os": "linux", "architecture": "s390x"]]
            let list = try ArchiveBuilder.json(["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                                "manifests": [other, child]] as [String: Any])
            let listDigest = try sha256(list)
            var tar = TarWriter()
            for name in try tarMembers(single) where name.hasPrefix("blobs/sha256/") && name.count > 13 {
                tar.file(name, try tarMember(single, name))
            }
            tar.file("blobs/sha256/" + listDigest.dropFirst(7), list)
            tar.file("index.json", try ArchiveBuilder.json(["schemaVersion": 2, "manifests": [[
                "mediaType": "application/vnd.oci.image.index.v1+json", "digest": listDigest, "size": list.count,
                "annotations": ["io.containerd.image.name": "docker.io/library/multi:1"],
            ]]] as [String: Any]))
            tar.end()
            let loaded = try await fixture.store.loadBytes(tar.bytes)
            #expect(loaded.first?.id == (try image.id()))
            #expect(try await fixture.store.image("multi:1").repoDigests == ["multi@\(listDigest)"])
        }
    }
}
