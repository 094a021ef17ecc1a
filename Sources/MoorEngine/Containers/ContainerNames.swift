import Foundation

/// Container ids and names as Docker makes and checks them.
enum ContainerNames {
    /// 64 hex digits from 32 random bytes.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, with an optional leading "/".
    static func validate(_ name: String) throws -> String {
        let bare = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let allowed = bare.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "_.-".unicodeScalars.contains($0) }
        guard bare.count >= 2, let first = bare.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || ("0"..."9").contains(first), allowed else {
            throw EngineError.invalid("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        return bare
    }

    private static let adjectives = [
        "anchored", "brave", "brisk", "calm", "clever", "coastal", "cool", "daring", "eager", "fair", "gentle",
        "hardy", "keen", "lucid", "merry", "mellow", "nimble", "patient", "quiet", "salty", "serene", "steady",
        "sturdy", "swift", "tidal", "trusty", "vivid", "wise", "windward", "zealous",
    ]
    private static let nouns = [
        "anchor", "beacon", "bollard", "buoy", "capstan", "cleat", "compass", "dinghy", "dock", "ferry", "harbor",
        "hawser", "jetty", "keel", "lantern", "mast", "mooring", "pier", "quay", "rudder", "schooner", "sextant",
        "skiff", "slipway", "tiller", "wharf", "winch", "yawl",
    ]

    /// "calm_harbor": a readable name, not in `taken`.
    static func random(avoiding taken: (String) -> Bool) -> String {
        for attempt in 0..<100 {
            var name = "\(adjectives.randomElement() ?? "calm")_\(nouns.randomElement() ?? "harbor")"
            if attempt > 10 { name += String(Int.random(in: 0..<100)) }
            if !taken(name) { return name }
        }
        return "moor_" + String(newID().prefix(12))
    }
}
