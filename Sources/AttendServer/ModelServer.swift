import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `attend serve`: an OpenAI-compatible HTTP server for an embedding model and a language model.
///
/// ```swift
/// let server = try ModelServer(configuration: .init(port: 8080),
///                              embeddingModel: ModelStore.defaultModelDirectory,
///                              generationModel: ModelStore.defaultLanguageModelFile)
/// try await server.run { host, port in print("listening on http://\(host):\(port)") }
/// ```
///
/// Endpoints: `POST /v1/embeddings`, `POST /v1/chat/completions`, `POST /v1/completions`,
/// `POST /v1/attention`, `POST /tokenize`, `GET /v1/models`, `GET /health`, `GET /metrics`
/// (docs/serving.md). Embedding requests are merged into batches; generation requests share
/// decoding steps (continuous batching). Each model computes on a thread of its own; the
/// event loops only parse, validate and write.
public final class ModelServer: Sendable {
    public let configuration: ServerConfiguration
    private let routes: ServerRoutes

    /// Loads the models (at least one).
    ///
    /// - Throws: ``ServerConfigurationError`` for a setting out of range or no model, or the
    ///   loaders' errors naming the file at fault.
    public init(configuration: ServerConfiguration, embeddingModel: String?, generationModel: String?) throws {
        try configuration.validate()
        guard embeddingModel != nil || generationModel != nil else {
            throw ServerConfigurationError(message: "give an embedding model, a generation model or both")
        }
        self.configuration = configuration
        let metrics = ServerMetrics()
        routes = ServerRoutes(configuration: configuration,
                              models: try ServedModels(embeddingModel: embeddingModel, generationModel: generationModel,
                                                       configuration: configuration, metrics: metrics),
                              metrics: metrics)
    }

    /// The names `/v1/models` lists (what requests' `model` may say).
    public var modelNames: [String] { routes.models.names }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, lets requests in flight
    /// finish (for at most ``ServerConfiguration/shutdownTimeoutSeconds``) and returns.
    /// `onListening` gets the bound host and port (the real one when the port was 0).
    public func run(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        var logger = Logger(label: "attend-serve")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let host = configuration.host
        let responder = ServerResponder(router: routes.router().buildResponder(), routes: routes)
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "attend"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        var group = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .nanoseconds(Int64(configuration.shutdownTimeoutSeconds * 1e9))
        defer { routes.models.stop() }
        try await ServiceGroup(configuration: group).run()
    }
}
