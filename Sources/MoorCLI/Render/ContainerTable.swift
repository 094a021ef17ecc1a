import Foundation

/// `moor ps`'s table from `GET /containers/json`: docker's columns and
/// truncation (12-character IDs, commands cut to 20 characters and quoted).
enum ContainerTable {
    static let header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]

    static func render(_ containers: [JSON], truncate: Bool, now: Double) -> String {
        var table = Table(header: header)
        for container in containers {
            table.append(row(container, truncate: truncate, now: now))
        }
        return table.render()
    }

    /// `ps -q`: one ID a line.
    static func ids(_ containers: [JSON], truncate: Bool) -> String {
        containers.map { id($0["Id"]?.stringValue ?? "", truncate: truncate) + "\n" }.joined()
    }

    static func row(_ container: JSON, truncate: Bool, now: Double) -> [String] {
        let command = container["Command"]?.stringValue ?? ""
        let created = Double(container["Created"]?.intValue ?? 0)
        return [
            id(container["Id"]?.stringValue ?? "", truncate: truncate),
            image(container["Image"]?.stringValue ?? "", truncate: truncate),
            quote(truncate ? ellipsis(command, 20) : command),
            HumanUnits.duration(seconds: now - created) + " ago",
            container["Status"]?.stringValue ?? "",
            ports(container["Ports"]?.arrayValue ?? []),
            names(container["Names"]?.stringArray ?? [], truncate: truncate),
        ]
    }

    static func id(_ id: String, truncate: Bool) -> String {
        let bare = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        return truncate ? String(bare.prefix(12)) : id
    }

    /// An image given by its digest shows as its short ID.
    static func image(_ image: String, truncate: Bool) -> String {
        guard truncate, image.hasPrefix("sha256:") else { return image }
        return String(image.dropFirst(7).prefix(12))
    }

    /// Cuts `text` to `width` characters, the last being "…".
    static func ellipsis(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    /// Go's strconv.Quote for the COMMAND column.
    static func quote(_ text: String) -> String {
        JSONWriter.quoted(text).replacingOccurrences(of: "\\u003c", with: "<")
            .replacingOccurrences(of: "\\u003e", with: ">").replacingOccurrences(of: "\\u0026", with: "&")
    }

    /// A container's own names (links, with a second "/", are left out),
    /// without the leading "/".
    static func names(_ names: [String], truncate: Bool) -> String {
        names.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
            .filter { !truncate || !$0.contains("/") }
            .joined(separator: ",")
    }

    /// "0.0.0.0:8080->80/tcp, 53/udp".
    static func ports(_ ports: [JSON]) -> String {
        ports.map { port in
            let privatePort = port["PrivatePort"]?.intValue ?? 0
            let type = port["Type"]?.stringValue ?? "tcp"
            guard let publicPort = port["PublicPort"]?.intValue, publicPort != 0 else { return "\(privatePort)/\(type)" }
            let ip = port["IP"]?.stringValue ?? ""
            let host = ip.contains(":") ? "[\(ip)]" : ip
            return "\(host):\(publicPort)->\(privatePort)/\(type)"
        }.joined(separator: ", ")
    }
}
