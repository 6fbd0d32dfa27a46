import ArgumentParser
import Attend
import AttendModels
import AttendServer
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the models over HTTP: OpenAI-compatible embeddings and completions, batching, limits, metrics.",
        discussion: """
            Endpoints: POST /v1/embeddings, POST /v1/chat/completions, POST /v1/completions (stream: true for
            server-sent events), POST /v1/attention (every layer's attention as JSON, or "format": "html"),
            POST /tokenize, GET /v1/models, GET /health, GET /metrics (Prometheus).
            With no model options it serves the fetched all-MiniLM-L6-v2 and SmolLM2-135M-Instruct (whichever
            are present). Prints `listening on http://HOST:PORT` when ready; SIGTERM or Ctrl-C lets requests in
            flight finish, then exits. Example:
              attend serve --port 8080 &
              curl -s localhost:8080/v1/embeddings -d '{"input": "A man is eating food."}'
            """)

    @Option(help: "Address to listen on (loopback by default; 0.0.0.0 for every interface).") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: ArgumentHelp("A sentence-transformers model folder for /v1/embeddings.", valueName: "dir"), completion: .directory)
    var embeddingModel: String?
    @Option(help: ArgumentHelp("A Llama-family GGUF file (or folder) for the completion endpoints.", valueName: "file"),
            completion: .file(extensions: ["gguf"]))
    var generationModel: String?
    @Option(help: "Require `Authorization: Bearer KEY` on every request but /health (default: $ATTEND_API_KEY, if set).")
    var apiKey: String?
    @Option(help: "Tokens per embedding batch (concurrent requests are merged up to this).") var maxBatchTokens = 16384
    @Option(help: "Requests queued or running per model; more are answered 429.") var maxConcurrentRequests = 512
    @Option(help: "Largest request body in bytes; larger are answered 413.") var maxBodyBytes = 2_000_000
    @Option(help: "Sequences sharing one decoding step at most (continuous batching).") var maxBatchSequences = 16
    @Option(help: "Threads to compute with (default: every core this process may use).") var threads: Int?

    var serverConfiguration: ServerConfiguration {
        ServerConfiguration(host: host, port: port, apiKey: apiKey ?? ProcessInfo.processInfo.environment["ATTEND_API_KEY"],
                            maxBatchTokens: maxBatchTokens, maxConcurrentRequests: maxConcurrentRequests,
                            maxBodyBytes: maxBodyBytes, maxBatchSequences: maxBatchSequences)
    }

    func validate() throws {
        do { try serverConfiguration.validate() } catch let error as ServerConfigurationError { throw ValidationError(error.message) }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1...1024") }
    }

    func run() async throws {
        if let threads { Parallelism.threadCount = threads }
        var (embedding, generation) = (embeddingModel, generationModel)
        if embedding == nil && generation == nil {
            let fileManager = FileManager.default
            if fileManager.fileExists(atPath: ModelStore.defaultModelDirectory) { embedding = ModelStore.defaultModelDirectory }
            if fileManager.fileExists(atPath: ModelStore.defaultLanguageModelFile) { generation = ModelStore.defaultLanguageModelFile }
            guard embedding != nil || generation != nil else {
                throw CLIError("no model to serve: run `attend model fetch` (and `attend model fetch SmolLM2-135M-Instruct`), "
                               + "or pass --embedding-model DIR / --generation-model FILE")
            }
        }
        let server = try ModelServer(configuration: serverConfiguration, embeddingModel: embedding, generationModel: generation)
        let names = server.modelNames.joined(separator: ", ")
        try await server.run { host, port in
            print("serving \(names)")
            print("listening on http://\(host):\(port)")
            fflush(nil)
        }
    }
}
