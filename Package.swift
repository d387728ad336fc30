// swift-tools-version:6.0
import PackageDescription

// Release builds skip the runtime exclusivity checks in the libraries (about 6% of a fleet run in perf: every
// access to a class's stored property) and use non-atomic reference counting (-assume-single-threaded: a
// simulation runs on one thread, and its helper threads (PcapWriterThread, FlowLogThread) share no reference-counted
// storage with it, only ChunkQueue's raw memory; atomic retain/release was a quarter of the engine's time in perf, and the
// engine benchmark runs about 35% faster without it), and let Sim inline Packets' functions across the module
// boundary (-cross-module-optimization: 5–10% on the fleet benchmarks). Debug builds, and so the tests, keep the
// checks and atomic counts.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-Xfrontend", "-assume-single-threaded", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "vpcsim",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Packets", targets: ["Packets"]),
        .library(name: "Sim", targets: ["Sim"]),
        .executable(name: "vpcsim", targets: ["vpcsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // libpcap, through pkg-config. The only Swift file that imports it is Sources/Packets/Libpcap.swift.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "Packets", dependencies: ["CPcap"], swiftSettings: hotPath),
        .target(name: "Sim", dependencies: ["Packets", .product(name: "Yams", package: "Yams")], swiftSettings: hotPath),
        .executableTarget(name: "vpcsim", dependencies: [
            "Sim", "Packets", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vpcsim-bench", dependencies: [
            "Packets", "Sim", .product(name: "Yams", package: "Yams"),
        ]),
        // Helpers shared by the test targets: fixture paths, running tshark.
        .target(name: "TestSupport", dependencies: ["Packets"], path: "Tests/TestSupport"),
        .testTarget(name: "PacketsTests", dependencies: ["Packets", "TestSupport"]),
        .testTarget(name: "SimTests", dependencies: ["Sim", "Packets", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["vpcsim", "Packets", "TestSupport"]),
    ]
)
