import Crypto
import Logging

/// Reads the store's metadata back at startup. What cannot be trusted (a
/// config whose bytes do not hash to its name, unreadable JSON, a tag to a
/// missing image) is logged and left out, never fatal: one bad file must not
/// keep the daemon from starting.
struct StoreLoader {
    let layout: StoreLayout
    let logger: Logger

    struct Contents {
        var images: [String: StoredImage] = [:]
        var layers: [String: LayerMetadata] = [:]
        var tags: [String: String] = [:]
    }

    func load() throws -> Contents {
        var contents = Contents()
        contents.images = try loadImages()
        contents.layers = try loadLayers()
        contents.tags = try loadTags(known: contents.images)
        return contents
    }

    private func loadImages() throws -> [String: StoredImage] {
        var images = [String: StoredImage]()
        for name in try FileIO.list(layout.images) where name.hasSuffix(".json") {
            let hex = String(name.dropLast(5))
            let path = layout.images + "/" + name
            guard hex.utf8.count == 64, Hex.isLowercaseHex(hex) else { continue }
            let bytes = try FileIO.read(path)
            guard Hex.string(SHA256.hash(data: bytes)) == hex else {
                logger.error("image store: config does not match its image ID; ignored", metadata: ["path": "\(path)"])
                continue
            }
            do {
                let config = try JSONCoding.decode(ImageConfig.self, from: bytes, subject: path)
                images["sha256:" + hex] = StoredImage(config: config)
            } catch {
                logger.error("image store: unreadable image config; ignored", metadata: ["error": "\(error)"])
            }
        }
        return images
    }

    private func loadLayers() throws -> [String: LayerMetadata] {
        var layers = [String: LayerMetadata]()
        for hex in try FileIO.list(layout.layers) {
            let path = layout.layers + "/" + hex + "/layer.json"
            do {
                let metadata = try JSONCoding.decode(LayerMetadata.self, from: try FileIO.read(path), subject: path)
                guard metadata.diffID == "sha256:" + hex else {
                    logger.error("image store: layer.json names another layer; ignored", metadata: ["path": "\(path)"])
                    continue
                }
                layers[metadata.diffID] = metadata
            } catch {
                logger.error("image store: layer without readable layer.json; ignored", metadata: ["error": "\(error)"])
            }
        }
        return layers
    }

    private func loadTags(known images: [String: StoredImage]) throws -> [String: String] {
        guard FileIO.exists(layout.repositories) else { return [:] }
        let bytes = try FileIO.read(layout.repositories)
        let file = try JSONCoding.decode(RepositoriesFile.self, from: bytes, subject: layout.repositories)
        var tags = [String: String]()
        for (reference, id) in file.tags {
            guard images[id] != nil else {
                logger.warning("image store: tag names a missing image; dropped",
                               metadata: ["reference": "\(reference)", "image": "\(id)"])
                continue
            }
            tags[reference] = id
        }
        return tags
    }
}
