// Placeholder until the tokenizer lands (replaced by the tokenizer work).
