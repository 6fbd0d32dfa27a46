// swift-tools-version:6.1
// libFuzzer targets for the parsers that read strangers' files (issue #16), kept out of the library
// package: they only link with `-sanitize=fuzzer` (libFuzzer supplies `main`), which scripts/fuzz
// passes on the command line — never unsafeFlags here.
//   scripts/fuzz [TARGET] [--seconds N]
import PackageDescription

let fuzzTargets = ["fuzz-gguf", "fuzz-safetensors", "fuzz-tokenizer", "fuzz-png", "fuzz-config"]

let package = Package(
    name: "AttendFuzz",
    dependencies: [.package(name: "Attend", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "Attend", package: "Attend"),
                .product(name: "AttendModels", package: "Attend"),
                .product(name: "AttendVisualization", package: "Attend"),
            ],
            path: "Sources/\(name)")
    },
    swiftLanguageModes: [.v6]
)
