// swift-tools-version:6.0
import Foundation
import PackageDescription

// Release builds skip the runtime exclusivity checks in the libraries (about 6% of a fleet run in perf: every
// access to a class's stored property) and use non-atomic reference counting (-assume-single-threaded: a
// simulation runs on one thread, and its helper threads (PcapWriterThread, FlowLogThread) share no reference-counted
// storage with it, only ChunkQueue's raw memory; atomic retain/release was a quarter of the engine's time in perf, and the
// engine benchmark runs about 35% faster without it), and let Sim inline Packets' functions across the module
// boundary (-cross-module-optimization: 5–10% on the fleet benchmarks). Debug builds, and so the tests, keep the
// checks and atomic counts.
//
// And they are optimized with a profile of where the simulation spends its time (profile-guided optimization:
// the compiler lays out hot paths together and inlines where calls are hot; `engine` runs 9% fewer instructions
// and misses the instruction cache 38% less often, `flows 1000000 off` takes 4–8% less time). The profile is
// profiles/Sim.profdata, made by scripts/pgo-profile.sh from the benchmarks and every shipped scenario; see
// docs/performance.md. It is LLVM's (`-ir-profile-use`: Swift's own `-profile-use` crashed the 6.3 compiler) and
// used only by a compiler at least as new as the one that made it (an older LLVM cannot read it); a function
// changed since the profile was made is simply optimized without it. VPCSIM_NO_PGO=1 builds without the profile;
// VPCSIM_PGO_GENERATE=DIR builds the instrumented libraries the script runs.
let environment = ProcessInfo.processInfo.environment
let profile = Context.packageDirectory + "/profiles/Sim.profdata"
var pgo: [String] = []
var pgoDefines: [SwiftSetting] = []
if let dir = environment["VPCSIM_PGO_GENERATE"] {
    pgo = ["-Xfrontend", "-ir-profile-generate=" + dir]
} else if environment["VPCSIM_NO_PGO"] == nil, FileManager.default.fileExists(atPath: profile) {
    #if compiler(>=6.3)
    pgo = ["-Xfrontend", "-ir-profile-use=" + profile]
    pgoDefines = [.define("VPCSIM_PGO", .when(configuration: .release))]  // BuildInfo.profileGuided
    #endif
}
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-Xfrontend", "-assume-single-threaded", "-cross-module-optimization"] + pgo, .when(configuration: .release))] + pgoDefines

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
        // zlib, for gzip-compressed flow logs (`vpcsim replay`). The only Swift file that imports it is
        // Sources/Sim/Replay/FlowLogStream.swift.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Packets", dependencies: ["CPcap"], swiftSettings: hotPath),
        .target(name: "Sim", dependencies: ["Packets", "CZlib", .product(name: "Yams", package: "Yams")], swiftSettings: hotPath),
        .executableTarget(name: "vpcsim", dependencies: [
            "Sim", "Packets", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "vpcsim-bench", dependencies: [
            "Packets", "Sim", .product(name: "Yams", package: "Yams"),
        ]),
        // Structure-aware fuzzing of the parsers (docs/robustness.md); CLITests' FuzzTests run it on a time budget.
        .executableTarget(name: "vpcsim-fuzz", dependencies: [
            "Packets", "Sim", .product(name: "Yams", package: "Yams"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Helpers shared by the test targets: fixture paths, running tshark.
        .target(name: "TestSupport", dependencies: ["Packets"], path: "Tests/TestSupport"),
        .testTarget(name: "PacketsTests", dependencies: ["Packets", "TestSupport"]),
        .testTarget(name: "SimTests", dependencies: ["Sim", "Packets", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["vpcsim", "vpcsim-fuzz", "Packets", "TestSupport"]),
    ]
)
