import Foundation
import MoorImages

/// Docker's JSON for images: `images` (summary), `image inspect`, `history`.
enum ImageRender {
    static func createdSeconds(_ created: String?) -> Int64 {
        guard let created, let ns = DockerTime.parseTimestamp(created) else { return 0 }
        return ns / 1_000_000_000
    }

    static func summary(_ image: ImageRecord) -> JSONValue {
        [
            "Containers": -1, "Created": .number(createdSeconds(image.config.created)), "Id": .string(image.id),
            "Labels": image.config.config?.labels.map { .stringMap($0) } ?? .null, "ParentId": "",
            "RepoDigests": .strings(image.repoDigests), "RepoTags": .strings(image.repoTags),
            "SharedSize": -1, "Size": .number(image.size), "VirtualSize": .number(image.size),
        ]
    }

    static func config(_ c: MoorImages.ContainerConfig?) -> JSONValue {
        guard let c else { return .null }
        return [
            "Hostname": "", "Domainname": "", "User": .string(c.user ?? ""), "AttachStdin": false, "AttachStdout": false,
            "AttachStderr": false, "ExposedPorts": .set(c.exposedPorts.map { Array($0.keys) }), "Tty": false,
            "OpenStdin": false, "StdinOnce": false, "Env": .strings(c.env), "Cmd": .strings(c.cmd), "Image": "",
            "Volumes": .set(c.volumes.map { Array($0.keys) }), "WorkingDir": .string(c.workingDir ?? ""),
            "Entrypoint": .strings(c.entrypoint), "OnBuild": .strings(c.onBuild), "Labels": .stringMap(c.labels),
            "StopSignal": .optional(c.stopSignal),
        ]
    }

    static func inspect(_ image: ImageRecord) -> JSONValue {
        let c = image.config
        var fields: [(String, JSONValue)] = [
            ("Id", .string(image.id)), ("RepoTags", .strings(image.repoTags)), ("RepoDigests", .strings(image.repoDigests)),
            ("Parent", ""), ("Comment", .string(c.comment ?? "")), ("Created", .string(c.created ?? DockerTime.zero)),
            ("Container", ""), ("ContainerConfig", config(MoorImages.ContainerConfig())),
            ("DockerVersion", .string(c.dockerVersion ?? "")), ("Author", .string(c.author ?? "")),
            ("Config", config(c.config)), ("Architecture", .string(c.architecture)),
        ]
        if let variant = c.variant { fields.append(("Variant", .string(variant))) }
        fields += [
            ("Os", .string(c.os)), ("Size", .number(image.size)), ("VirtualSize", .number(image.size)),
            ("GraphDriver", ["Data": nil, "Name": "overlay2"]),
            ("RootFS", ["Type": .string(c.rootfs.type), "Layers": .strings(c.rootfs.diffIDs)]),
            ("Metadata", ["LastTagTime": .string(DockerTime.zero)]),
        ]
        return .object(fields)
    }

    /// Newest step first. Steps that made a layer show its size; only the
    /// newest step has the image's ID and tags (the others' images are not
    /// in the store, "<missing>" as dockerd shows for loaded images).
    static func history(_ image: ImageRecord) -> JSONValue {
        var sizes = image.layerSizes[...]
        var steps: [(ImageConfig.History, Int64)] = []
        for entry in image.config.history ?? [] {
            let size = entry.emptyLayer == true ? 0 : (sizes.popFirst() ?? 0)
            steps.append((entry, size))
        }
        var out: [JSONValue] = []
        for (index, (entry, size)) in steps.reversed().enumerated() {
            out.append([
                "Id": .string(index == 0 ? image.id : "<missing>"), "Created": .number(createdSeconds(entry.created)),
                "CreatedBy": .string(entry.createdBy ?? ""), "Tags": index == 0 ? .strings(image.repoTags) : .null,
                "Size": .number(size), "Comment": .string(entry.comment ?? ""),
            ])
        }
        return .array(out)
    }

    // MARK: docker load / prune

    /// A line of the load stream the docker CLI prints as is.
    static func streamLine(_ text: String) -> [UInt8] {
        JSONValue.object([("stream", .string(text))]).serialized() + [0x0a]
    }

    /// An error in a JSON stream, as dockerd's stream formatter writes it.
    static func errorLine(_ message: String) -> [UInt8] {
        JSONValue.object([("errorDetail", ["message": .string(message)]), ("error", .string(message))]).serialized() + [0x0a]
    }

    /// dockerd's "Loading layer" progress message for one layer.
    static func loadProgress(_ progress: LoadProgress) -> [UInt8] {
        JSONValue.object([
            ("status", "Loading layer"),
            ("progressDetail", ["current": .number(progress.current), "total": .number(progress.total)]),
            ("progress", .string(progressBar(current: progress.current, total: progress.total))),
            ("id", .string(progress.id)),
        ]).serialized() + [0x0a]
    }

    /// "[=====>      ]  1.05MB/2.1MB", the text dockerd puts beside the numbers.
    static func progressBar(current: Int64, total: Int64) -> String {
        let width = 50
        let filled = total > 0 ? min(width, Int(Double(current) / Double(total) * Double(width))) : 0
        let bar = String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? ">" : "")
            + String(repeating: " ", count: width - max(filled, 0))
        return "[\(bar)] " + humanSize(current) + "/" + humanSize(total)
    }

    /// go-units' HumanSize: decimal units, four significant digits.
    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        var text = String(format: "%.4g", value)
        if text.contains("e") { text = String(Int64(value)) }
        return text + units[unit]
    }

    /// POST /images/prune's answer.
    static func pruneReport(_ items: [ImageDeleteItem], reclaimed: Int64) -> JSONValue {
        let deleted: JSONValue = items.isEmpty ? .null : .array(items.map { item in
            switch item {
            case let .untagged(reference): .object([("Untagged", .string(reference))])
            case let .deleted(id): .object([("Deleted", .string(id))])
            }
        })
        return .object([("ImagesDeleted", deleted), ("SpaceReclaimed", .number(reclaimed))])
    }
}
