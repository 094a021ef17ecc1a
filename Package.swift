// swift-tools-version:6.0
import PackageDescription

// Layout (docs/architecture.md): the shim in C (CShim/), the daemon's layers in
// Sources/, built-in plugins in plugins/ (each depends on MoorPluginKit only).
//
// The shim's C code is one library target (MoorShimCore) so Swift tests can
// call it directly; the moor-shim binary the daemon runs is linked by the
// Makefile with cc -static from the same sources (no Swift runtime, <1 MiB).
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "moor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "moor-shim", targets: ["moor-shim"]),
        .executable(name: "moord", targets: ["moord"]),
        .executable(name: "moor", targets: ["moor"]),
        .library(name: "MoorShimClient", targets: ["MoorShimClient"]),
        .library(name: "MoorPluginKit", targets: ["MoorPluginKit"]),
        .library(name: "MoorLogFiles", targets: ["MoorLogFiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"4.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // --- the shim (C) ---
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

        // --- shared by the daemon, the CLI and plugins ---
        .target(name: "MoorShimClient", dependencies: ["CMoorProtocol"]),
        .target(name: "MoorPluginKit", dependencies: [logging]),

        // --- the daemon's layers ---
        .target(name: "MoorHTTP", dependencies: nio + [logging, .product(name: "NIOHTTP1", package: "swift-nio")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CLzma", path: "Sources/CLzma"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CLinuxFS", path: "Sources/CLinuxFS"),
        .target(name: "MoorImages", dependencies: ["CZlib", "CLzma", "CZstd", "CLinuxFS", 
            logging, .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "MoorStore", dependencies: [logging, .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "MoorEngine", dependencies: [
            "MoorShimClient", "MoorPluginKit", "MoorStore", "MoorImages", logging,
        ] + nio),
        .target(name: "MoorAPI", dependencies: ["MoorHTTP", "MoorEngine", "MoorImages", logging] + nio),
        .target(name: "MoorBuiltinPlugins", dependencies: [
            "MoorPluginKit", "MoorLogJSONFile", "MoorLogLocal", "MoorLogNone",
            "MoorNetworkBasic", "MoorRestartPolicies",
        ], path: "plugins/MoorBuiltinPlugins"),
        // The daemon as a library (configuration, lifecycle), so it is testable.
        .target(name: "MoorDaemon", dependencies: [
            "MoorAPI", "MoorEngine", "MoorImages", "MoorStore", "MoorBuiltinPlugins", "MoorPluginKit", "MoorHTTP", logging,
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ] + nio),
        .executableTarget(name: "moord", dependencies: [
            "MoorDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The native CLI: its logic in a library (testable), `moor` a thin main.
        .target(name: "MoorCLI", dependencies: [
            "MoorHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + nio),
        .executableTarget(name: "moor", dependencies: ["MoorCLI"]),

        // --- built-in plugins: the kit (and its log-file helpers), as a third party would ---
        // Log-file plumbing shared by the file-based log drivers: depends on
        // the kit only, so a third-party driver can use it too.
        .target(name: "MoorLogFiles", dependencies: ["MoorPluginKit", "CZlib"], path: "plugins/MoorLogFiles"),
        .target(name: "MoorLogJSONFile", dependencies: ["MoorPluginKit", "MoorLogFiles"], path: "plugins/MoorLogJSONFile"),
        .target(name: "MoorLogLocal", dependencies: ["MoorPluginKit", "MoorLogFiles"], path: "plugins/MoorLogLocal"),
        .target(name: "MoorLogNone", dependencies: ["MoorPluginKit", "MoorLogFiles"], path: "plugins/MoorLogNone"),
        .target(name: "MoorNetworkBasic", dependencies: ["MoorPluginKit"], path: "plugins/MoorNetworkBasic"),
        .target(name: "MoorRestartPolicies", dependencies: ["MoorPluginKit"], path: "plugins/MoorRestartPolicies"),

        // --- tests ---
        .testTarget(name: "MoorShimCoreTests", dependencies: ["MoorShimCore"]),
        .testTarget(name: "MoorShimClientTests", dependencies: ["MoorShimClient"]),
        .testTarget(name: "MoorShimIntegrationTests", dependencies: ["MoorShimClient"]),
        .testTarget(name: "MoorPluginKitTests", dependencies: ["MoorPluginKit", "MoorBuiltinPlugins", "MoorLogFiles"]),
        .testTarget(name: "MoorHTTPTests", dependencies: ["MoorHTTP"] + nio),
        .testTarget(name: "MoorImagesTests", dependencies: ["MoorImages"]),
        .testTarget(name: "MoorStoreTests", dependencies: ["MoorStore"]),
        .testTarget(name: "MoorCLITests", dependencies: ["MoorCLI", "MoorHTTP"] + nio),
        .testTarget(name: "MoorDaemonTests", dependencies: ["MoorDaemon", "MoorEngine", "MoorPluginKit"]),
        .testTarget(name: "MoorEngineTests", dependencies: ["MoorEngine", "MoorShimClient", "MoorPluginKit"]),
    ],
    swiftLanguageModes: [.v6]
)
