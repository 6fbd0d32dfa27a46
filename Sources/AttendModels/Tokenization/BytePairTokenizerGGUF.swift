import Attend

extension BytePairTokenizer {
    /// Reads a GGUF file's tokenizer (`tokenizer.ggml.model == "gpt2"`): `tokens`, `merges`,
    /// `token_type`, `pre`, `bos_token_id`, `eos_token_id` and `add_bos_token`.
    ///
    /// - Throws: ``TokenizerError`` naming the file and the key that is missing or unsupported.
    public init(gguf file: GGUFFile) throws {
        func fail(_ reason: String) -> TokenizerError { TokenizerError(file: file.path, reason: reason) }
        let metadata = file.metadata
        let model = metadata["tokenizer.ggml.model"]?.string ?? "(none)"
        guard model == "gpt2" else {
            throw fail("tokenizer.ggml.model is '\(model)'; only byte-level BPE ('gpt2') is supported")
        }
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.strings else {
            throw fail("tokenizer.ggml.tokens is missing or not an array of strings")
        }
        guard let merges = metadata["tokenizer.ggml.merges"]?.strings else {
            throw fail("tokenizer.ggml.merges is missing or not an array of strings")
        }
        let types = metadata["tokenizer.ggml.token_type"]?.integers
        if metadata["tokenizer.ggml.token_type"] != nil && types == nil {
            throw fail("tokenizer.ggml.token_type is not an array of integers")
        }
        let preName = metadata["tokenizer.ggml.pre"]?.string ?? "gpt2"
        guard let pre = PreTokenization(ggufName: preName == "default" ? "gpt2" : preName) else {
            throw fail("pre-tokenizer '\(preName)' (tokenizer.ggml.pre) is not supported; GPT-2's, SmolLM's (digits split) and Llama 3's are")
        }
        try self.init(tokens: tokens, merges: merges.map(Self.splitMerge), tokenTypes: types, preTokenization: pre,
                      beginningOfSequenceID: metadata["tokenizer.ggml.bos_token_id"]?.integer,
                      endOfSequenceID: metadata["tokenizer.ggml.eos_token_id"]?.integer,
                      addsBeginningOfSequence: metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false,
                      source: file.path)
    }
}
