// swift-tools-version:6.0
import PackageDescription

// The shim's C code is one library target (MoorShimCore) so Swift tests can
// call it directly; the moor-shim binary the daemon runs is linked by the
// Makefile with cc -static from the same sources (no Swift runtime, <1 MiB).
let package = Package(
    name: "moor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "moor-shim", targets: ["moor-shim"]),
        .library(name: "MoorShimClient", targets: ["MoorShimClient"]),
    ],
    targets: [
        .target(name: "CMoorProtocol", path: "CShim/protocol"),
        .target(
            name: "MoorShimCore",
            dependencies: ["CMoorProtocol"],
            path: "CShim/core",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                .linkedLibrary("seccomp"), .linkedLibrary("cap"), .linkedLibrary("json-c"),
            ]
        ),
        .executableTarget(
            name: "moor-shim",
            dependencies: ["MoorShimCore"],
            path: "CShim/main",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(name: "MoorShimClient", dependencies: ["CMoorProtocol"]),
        .testTarget(name: "MoorShimCoreTests", dependencies: ["MoorShimCore"]),
        .testTarget(name: "MoorShimClientTests", dependencies: ["MoorShimClient"]),
        .testTarget(name: "MoorShimIntegrationTests", dependencies: ["MoorShimClient"]),
    ],
    swiftLanguageModes: [.v6]
)
