import Foundation
@testable import MoorImages

/// An image to put in a test archive: its layers (plain tar streams,
/// bottom-most first) and config.
struct TestImage {
    var layers: [[UInt8]]
    var tags: [String] = []
    var labels: [String: String] = [:]
    var created = "2024-01-02T03:04:05Z"
    /// Replaces the config's diff_ids (to make them lie).
    var diffIDs: [String]?

    /// The config JSON (its SHA-256 is the image ID).
    func config() throws -> [UInt8] {
        let diffIDs = try self.diffIDs ?? layers.map(sha256)
        let history = layers.enumerated().map { index, _ in
            ["created": created, "created_by": "/bin/sh -c step \(index)"] as [String: Any]
        } + [["created": created, "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]", "empty_layer": true]]
        let object: [String: Any] = [
            "architecture": Platform.host.architecture, "os": "linux", "created": created,
            "config": ["Cmd": ["sh"], "Labels": labels, "Env": ["PATH=/bin"]],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
            "history": history,
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    func id() throws -> String { try sha256(try config()) }
}

/// Builds `docker load` archives in memory, in both layouts, with the
/// layers and the whole archive compressed as asked ("gzip", "xz", "zstd").
enum ArchiveBuilder {
    static func layer(_ fill: (inout TarWriter) -> Void) -> [UInt8] {
        var tar = TarWriter()
        fill(&tar)
        tar.end()
        return tar.bytes
    }

    static func compress(_ bytes: [UInt8], _ compression: String?) throws -> [UInt8] {
        switch compression {
        case nil: bytes
        case "gzip": try run("/usr/bin/gzip", ["-c", "-n"], input: bytes)
        case "xz": try run("/usr/bin/xz", ["-c"], input: bytes)
        case "zstd": try run("/usr/bin/zstd", ["-c", "-q"], input: bytes)
        default: throw TestFailure("unknown compression \(compression ?? "")")
        }
    }

    static func json(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// docker save's layout: <id>/layer.tar, <config>.json, manifest.json,
    /// repositories. `extra` runs last (hostile additions).
    static func dockerSave(_ images: [TestImage], layerCompression: String? = nil, compression: String? = nil,
                           extra: (inout TarWriter) -> Void = { _ in }) throws -> [UInt8] {
        var tar = TarWriter()
        var manifest = [[String: Any]]()
        var written = Set<String>()
        for image in images {
            var paths = [String]()
            for layer in image.layers {
                let blob = try compress(layer, layerCompression)
                let directory = String(try sha256(blob + Array("v1".utf8)).dropFirst(7))
                let path = directory + "/layer.tar"
                if written.insert(path).inserted {
                    tar.directory(directory + "/")
                    tar.file(directory + "/VERSION", "1.0")
                    tar.file(directory + "/json", "{\"id\":\"\(directory)\"}")
                    tar.file(path, blob)
                }
                paths.append(path)
            }
            let config = try image.config()
            let configPath = String(try image.id().dropFirst(7)) + ".json"
            if written.insert(configPath).inserted { tar.file(configPath, config) }
            manifest.append(["Config": configPath, "RepoTags": image.tags, "Layers": paths])
        }
        tar.file("manifest.json", try json(manifest))
        tar.file("repositories", "{}")
        extra(&tar)
        tar.end()
        return try compress(tar.bytes, compression)
    }

    /// The OCI image layout: oci-layout, index.json (names in containerd's
    /// annotation), blobs/sha256/ for manifests, configs and layers.
    static func ociLayout(_ images: [TestImage], layerCompression: String? = nil, compression: String? = nil,
                          extra: (inout TarWriter) -> Void = { _ in }) throws -> [UInt8] {
        var tar = TarWriter()
        var blobs = [String: [UInt8]]()
        var descriptors = [[String: Any]]()
        for image in images {
            var layers = [[String: Any]]()
            for layer in image.layers {
                let blob = try compress(layer, layerCompression)
                let digest = try sha256(blob)
                blobs[digest] = blob
                let type = "application/vnd.oci.image.layer.v1.tar" + (layerCompression.map { "+" + $0 } ?? "")
                layers.append(["mediaType": type, "digest": digest, "size": blob.count])
            }
            let config = try image.config()
            blobs[try image.id()] = config
            let manifest = try json([
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": try image.id(),
                           "size": config.count],
                "layers": layers,
            ] as [String: Any])
            let digest = try sha256(manifest)
            blobs[digest] = manifest
            let base: [String: Any] = ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                       "size": manifest.count]
            if image.tags.isEmpty { descriptors.append(base) }
            for tag in image.tags {
                var named = base
                let full = tag.contains("/") ? tag : "docker.io/library/" + tag
                named["annotations"] = ["io.containerd.image.name": full,
                                        "org.opencontainers.image.ref.name": String(tag.split(separator: ":").last ?? "")]
                descriptors.append(named)
            }
        }
        tar.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}")
        tar.directory("blobs/")
        tar.directory("blobs/sha256/")
        for (digest, blob) in blobs.sorted(by: { $0.key < $1.key }) {
            tar.file("blobs/sha256/" + digest.dropFirst(7), blob)
        }
        tar.file("index.json", try json(["schemaVersion": 2, "manifests": descriptors] as [String: Any]))
        extra(&tar)
        tar.end()
        return try compress(tar.bytes, compression)
    }
}

extension ImageStore {
    /// Loads an in-memory archive (test shorthand).
    func loadBytes(_ bytes: [UInt8], chunkSize: Int = 4096,
                   progress: (@Sendable (LoadProgress) async -> Void)? = nil) async throws -> [LoadedImage] {
        try await load(chunked(bytes, size: chunkSize), progress: progress)
    }

    /// A whole `docker save` archive in memory.
    func saveBytes(_ names: [String]) async throws -> [UInt8] {
        let collected = Collected()
        try await save(names) { _ in
            { chunk in await collected.append(chunk) }
        }
        return await collected.bytes
    }
}

actor Collected {
    var bytes = [UInt8]()
    func append(_ chunk: [UInt8]) { bytes += chunk }
}

/// The members of a tar archive (regular files only), read with tar(1).
func tarMembers(_ archive: [UInt8]) throws -> [String] {
    String(decoding: try run("/usr/bin/tar", ["-tf", "-"], input: archive), as: UTF8.self)
        .split(separator: "\n").map(String.init)
}

/// One member's bytes, read with tar(1).
func tarMember(_ archive: [UInt8], _ name: String) throws -> [UInt8] {
    try run("/usr/bin/tar", ["-xOf", "-", name], input: archive)
}
