import Foundation
import Testing

/// The `attend` command as a person runs it: the binary `swift test` builds beside the tests.
@Suite("attend command line")
struct CLITests {
    static let binary: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 && !FileManager.default.fileExists(atPath: url.appendingPathComponent("attend").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("attend").path
    }()

    /// Runs `attend arguments…` with `ATTEND_HOME` set; returns exit status, stdout and stderr.
    static func run(_ arguments: [String], home: String? = nil) throws -> (status: Int32, output: String, error: String) {
        var environment = ProcessInfo.processInfo.environment
        if let home { environment["ATTEND_HOME"] = home }
        let result = try runSubprocess(binary, arguments, environment: environment)
        return (result.status, String(decoding: result.output, as: UTF8.self), String(decoding: result.error, as: UTF8.self))
    }

    static func run(_ arguments: String..., home: String? = nil) throws -> (status: Int32, output: String, error: String) {
        try run(arguments, home: home)
    }

    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "expected attend at \(Self.binary)")
    }

    @Test func helpListsTheCommands() throws {
        let result = try Self.run("--help")
        #expect(result.status == 0)
        for command in ["info", "embed", "tokenize", "similarity", "search", "model"] {
            #expect(result.output.contains(command), "help mentions \(command)")
        }
    }

    @Test func badModelFoldersFailWithOneLine() throws {
        let home = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        // No model fetched yet.
        var result = try Self.run("embed", "hello", home: home)
        #expect(result.status != 0 && result.error.contains("attend model fetch"))
        // An incomplete folder, a malformed config, a truncated safetensors file.
        let folder = home + "/broken"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        result = try Self.run("tokenize", "--model", folder, "hello")
        #expect(result.status != 0 && result.error.contains(folder))
        let tiny = tinyBertDirectory
        for file in ["config.json", "model.safetensors", "vocab.txt"] {
            try FileManager.default.copyItem(atPath: tiny + "/" + file, toPath: folder + "/" + file)
        }
        #expect(try Self.run("tokenize", "--model", folder, "w1 w2").output.trimmingCharacters(in: .whitespacesAndNewlines) == "[2,6,7,3]")
        try Data("{\"hidden_size\": 16}".utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        result = try Self.run("embed", "--model", folder, "hello")
        #expect(result.status != 0 && result.error.contains("config.json") && result.error.split(separator: "\n").count == 1)
        try FileManager.default.removeItem(atPath: folder + "/config.json")
        try FileManager.default.copyItem(atPath: tiny + "/config.json", toPath: folder + "/config.json")
        let weights = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors"))
        try weights.prefix(100).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        result = try Self.run("similarity", "--model", folder, "a", "b")
        #expect(result.status != 0 && result.error.contains("model.safetensors") && !result.error.contains("Fatal"))
    }

    @Test func invalidUTF8IsRefused() throws {
        // Foundation's Process only takes Strings, so let the shell build the invalid argument.
        let shell = try runSubprocess("/bin/sh", ["-c", "exec \"$0\" tokenize \"$(printf 'h\\377\\376i')\"", Self.binary])
        let message = String(decoding: shell.error, as: UTF8.self)
        #expect(shell.status != 0 && message.contains("not valid UTF-8"), "\(message)")
        let home = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let corpus = home + "/corpus.txt"
        try Data([0x61, 0x0A, 0xC3, 0x28, 0x0A]).write(to: URL(fileURLWithPath: corpus))
        let tiny = tinyBertDirectory
        let search = try Self.run("search", "--model", tiny, "--corpus", corpus, "w1", home: home)
        #expect(search.status != 0 && search.error.contains("not valid UTF-8"))
    }

    @Test func searchCachesCorpusEmbeddings() throws {
        let home = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let tiny = tinyBertDirectory
        let corpus = home + "/corpus.txt"
        try "w1 w2 w3\nw4 w5\nw6\n".write(toFile: corpus, atomically: true, encoding: .utf8)
        let first = try Self.run("search", "--model", tiny, "--corpus", corpus, "--top", "2", "w4 w5", home: home)
        #expect(first.status == 0 && first.error.contains("embedded and cached"))
        #expect(first.output.split(separator: "\n").count == 2)
        #expect(first.output.split(separator: "\n").first?.hasSuffix("w4 w5") == true)   // identical text ranks first
        let second = try Self.run("search", "--model", tiny, "--corpus", corpus, "--top", "2", "w4 w5", home: home)
        #expect(second.error.contains("from cache") && second.output == first.output)
        try "w1 w2 w3\nw4 w5\nw6 w7\n".write(toFile: corpus, atomically: true, encoding: .utf8)   // changed corpus: re-embed
        #expect(try Self.run("search", "--model", tiny, "--corpus", corpus, "w4", home: home).error.contains("embedded and cached"))
    }

    /// `attend compress --int8` writes a folder every command loads: the tiny model always, the
    /// real MiniLM when present (CI requires it), with embeddings close to the float model's.
    @Test func compressedModelsLoadAndEmbed() throws {
        let home = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let tiny = tinyBertDirectory
        var models = [tiny]
        if RealModel.isAvailable, let real = RealModel.directory { models.append(real) }
        for (index, model) in models.enumerated() {
            let output = home + "/compressed-\(index)"
            let compressed = try Self.run("compress", "--model", model, "--int8", "--output", output)
            #expect(compressed.status == 0, "\(compressed.error)")
            #expect(compressed.output.contains("int8 layers:") && compressed.output.contains("→"))
            let info = try Self.run("model", "info", "--model", output)
            #expect(info.status == 0 && info.output.contains("int8 in"), "\(info.output)\(info.error)")
            let text = model == tiny ? "w1 w2 w3" : "A man is eating food."
            let float = try Self.run("embed", "--model", model, text), int8 = try Self.run("embed", "--model", output, text)
            #expect(float.status == 0 && int8.status == 0, "\(int8.error)")
            let a = try JSONDecoder().decode([[Float]].self, from: Data(float.output.utf8))[0]
            let b = try JSONDecoder().decode([[Float]].self, from: Data(int8.output.utf8))[0]
            let dot: Float = zip(a, b).map { $0 * $1 }.reduce(0, +)
            let norms: Float = a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot()
            let cosine = dot / norms
            #expect(cosine > (model == tiny ? 0.95 : 0.99), "cosine of int8 to float embeddings: \(cosine)")
            // A second compression into an existing folder, or of a quantized folder, is refused.
            #expect(try Self.run("compress", "--model", model, "--int8", "--output", output).status != 0)
            #expect(try Self.run("compress", "--model", output, "--int8", "--output", output + "-again").status != 0)
        }
    }

    /// `attend compress --prune-heads` removes the least important heads, measured on the
    /// calibration texts, and the smaller folder embeds through every command.
    @Test func prunedModelsLoadAndEmbed() throws {
        let home = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let tiny = tinyBertDirectory
        let calibration = home + "/calibration.txt"
        try "w1 w2 w3\nw4 w5 w6 w7\nw8 w9\nw3 w1 w9 w2\n".write(toFile: calibration, atomically: true, encoding: .utf8)
        let output = home + "/pruned"
        let result = try Self.run("compress", "--model", tiny, "--prune-heads", "0.5", "--calibration", calibration,
                                  "--int8", "--output", output)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("heads:       4 of 8"), "\(result.output)")
        let info = try Self.run("model", "info", "--model", output)
        #expect(info.output.contains("heads:      4 of 8 (pruned:") && info.output.contains("int8 in"), "\(info.output)")
        let embedded = try Self.run("embed", "--model", output, "w1 w2 w3")
        #expect(embedded.status == 0 && (try? JSONDecoder().decode([[Float]].self, from: Data(embedded.output.utf8)))?.first?.count == 16)
        #expect(try Self.run("compress", "--model", tiny, "--prune-heads", "0.5", "--output", home + "/x").status != 0,
                "pruning without calibration texts is refused")
        #expect(try Self.run("compress", "--model", tiny, "--prune-heads", "1.5", "--calibration", calibration,
                             "--output", home + "/y").status != 0)
    }
}
