// swift-tools-version:6.0
// Release-mode benchmarks for Attend, kept out of the library package so they never slow its build.
//   swift run -c release --package-path Benchmarks attend-benchmarks --help
import PackageDescription

let package = Package(
    name: "AttendBenchmarks",
    dependencies: [
        .package(name: "Attend", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Direct oneDNN access, to time raw sgemm (threaded by OpenMP) beside Attend's matmul.
        .systemLibrary(name: "RawDNNL", path: "Sources/RawDNNL", providers: [.apt(["libdnnl-dev"])]),
        .executableTarget(
            name: "attend-benchmarks",
            dependencies: [
                .product(name: "Attend", package: "Attend"),
                .product(name: "AttendNN", package: "Attend"),
                .product(name: "AttendModels", package: "Attend"),
                .product(name: "AttendTraining", package: "Attend"),
                .product(name: "AttendDistributed", package: "Attend"),
                "RawDNNL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/AttendBenchmarks"
        ),
    ],
    swiftLanguageModes: [.v6]
)
