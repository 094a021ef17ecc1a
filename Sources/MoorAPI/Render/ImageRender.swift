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

    static func history(_ image: ImageRecord) -> JSONValue {
        let entries = (image.config.history ?? []).reversed()
        var out: [JSONValue] = []
        for (index, entry) in entries.enumerated() {
            out.append([
                "Id": .string(index == 0 ? image.id : "<missing>"), "Created": .number(createdSeconds(entry.created)),
                "CreatedBy": .string(entry.createdBy ?? ""), "Tags": index == 0 ? .strings(image.repoTags) : .null,
                "Size": .number(index == 0 ? image.size : 0), "Comment": .string(entry.comment ?? ""),
            ])
        }
        return .array(out)
    }
}
