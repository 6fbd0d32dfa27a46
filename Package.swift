// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Attend",
    products: [
        .library(name: "Attend", targets: ["Attend"]),
        .library(name: "AttendNN", targets: ["AttendNN"]),
        .library(name: "AttendModels", targets: ["AttendModels"]),
        .library(name: "AttendVisualization", targets: ["AttendVisualization"]),
        .library(name: "AttendTraining", targets: ["AttendTraining"]),
        .library(name: "AttendDistributed", targets: ["AttendDistributed"]),
        .library(name: "AttendServer", targets: ["AttendServer"]),
        .executable(name: "attend", targets: ["AttendCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The server: Hummingbird 2 on SwiftNIO (its swift-configuration trait is not needed),
        // graceful shutdown from swift-service-lifecycle, Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // oneDNN's sgemm (Debian ships no pkg-config file for it); on Debian: apt-get install libdnnl-dev.
        .systemLibrary(
            name: "CDNNL",
            path: "Sources/CDNNL",
            providers: [.apt(["libdnnl-dev"])]
        ),
        // Open MPI for data-parallel training; on Debian: apt-get install libopenmpi-dev openmpi-bin.
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // zlib's deflate for PNG; on Debian: apt-get install zlib1g-dev.
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Hot loops in C: AVX-512, AVX2 and portable variants side by side, chosen at run time.
        .target(name: "AttendKernels"),
        .target(name: "Attend", dependencies: ["AttendKernels", "CDNNL"]),
        .target(name: "AttendNN", dependencies: ["Attend"]),
        .target(name: "AttendModels", dependencies: ["Attend", "AttendNN"]),
        .target(name: "AttendVisualization", dependencies: ["Attend", "CZlib"]),
        .target(name: "AttendTraining", dependencies: ["Attend", "AttendNN"]),
        .target(name: "AttendDistributed", dependencies: ["Attend", "AttendNN", "AttendTraining", "CMPI"]),
        // `attend serve`: OpenAI-compatible embeddings and completions, batching, limits, metrics.
        .target(name: "AttendServer", dependencies: [
            "Attend", "AttendModels", "AttendVisualization",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Collective checks that the test suite runs under `mpirun` (Swift Testing runs tests in
        // parallel; collectives must not).
        .executableTarget(name: "attend-distributed-check", dependencies: ["Attend", "AttendNN", "AttendTraining", "AttendDistributed"],
                          path: "Tests/DistributedCheck"),
        // The `attend train` demos: they sit above every library, as the CLI does.
        .target(name: "AttendDemos", dependencies: ["Attend", "AttendNN", "AttendModels", "AttendVisualization", "AttendTraining"],
                resources: [.copy("Resources/digits.csv")]),
        .executableTarget(
            name: "AttendCLI",
            dependencies: [
                "Attend",
                "AttendNN",
                "AttendModels",
                "AttendVisualization",
                "AttendTraining",
                "AttendDemos",
                "AttendDistributed",
                "AttendServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "AttendTests",
            dependencies: ["Attend", "AttendKernels", "AttendNN", "AttendModels", "AttendVisualization", "AttendTraining", "AttendDemos",
                           "AttendDistributed"],
            resources: [.copy("Goldens")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
