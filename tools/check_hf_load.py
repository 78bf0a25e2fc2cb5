#!/usr/bin/env python3
"""Checks that Hugging Face transformers loads a model directory that ftengine saved, as is.

Usage:
    python3 tools/check_hf_load.py MODEL_DIR [--inputs FILE.json] [--expect-weights FILE]
                                   [--atol 1e-4] [--rtol 1e-4]

MODEL_DIR is what ftengine wrote (save_hf_model_dir: config.json, model.safetensors, vocab.txt,
tokenizer_config.json). The script
  1. loads it with transformers' BertForSequenceClassification.from_pretrained(MODEL_DIR) and fails
     if any weight is missing, unexpected or of another shape (nothing may be re-initialised), or if
     the config is not a one-label regression;
  2. loads the tokenizer with AutoTokenizer.from_pretrained(MODEL_DIR) when vocab.txt is there;
  3. with --expect-weights (a .safetensors file with Hugging Face names), checks that every loaded
     parameter equals the file's tensor exactly;
  4. with --inputs, runs the model in eval mode (no dropout) on the token ids in the JSON file and
     compares its regression outputs with the predictions ftengine wrote there:
         {"input_ids": [[...], ...],            (B, T) ints, right-padded
          "token_type_ids": [[...], ...],       optional, default zeros
          "attention_mask": [[...], ...],       optional (or "lengths": [...]), default all ones
          "predictions": [...]}                 optional (B) floats; without it the outputs are printed

Tolerances: ftengine's float32 CPU/GPU forward and torch's float32 forward sum in different orders;
the defaults (atol 1e-4 and rtol 1e-4 on outputs of order 1) leave room for that accumulated
rounding in a BERT-base forward (hundreds of dot products of length 768-3072 per output) while
still failing on any real difference such as a missed LayerNorm epsilon, a wrong GELU or one
swapped weight. bf16 runs need a looser --atol (about 1e-2).

Exit status 0 when every check passes, 1 otherwise (the reason is printed).
Needs torch, transformers and safetensors from PyPI; not used by CI.
"""
import argparse
import json
import pathlib
import sys


def fail(message: str) -> None:
    print(f"check_hf_load: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=pathlib.Path)
    parser.add_argument("--inputs", type=pathlib.Path, help="JSON with input_ids (and predictions to compare)")
    parser.add_argument("--expect-weights", type=pathlib.Path, help="safetensors file the weights must equal")
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()

    import torch
    import transformers

    if not (args.model_dir / "config.json").is_file():
        fail(f"{args.model_dir}: no config.json")
    model, info = transformers.BertForSequenceClassification.from_pretrained(
        str(args.model_dir), output_loading_info=True)
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        fail(f"{args.model_dir}: transformers did not load every weight as saved: {problems}")
    if model.config.num_labels != 1 or model.config.problem_type != "regression":
        fail(f"{args.model_dir}: config says num_labels={model.config.num_labels}, "
             f"problem_type={model.config.problem_type!r}; expected 1 and 'regression'")
    print(f"check_hf_load: {args.model_dir}: BertForSequenceClassification loaded "
          f"({sum(p.numel() for p in model.parameters()):,} parameters, none re-initialised)")

    if (args.model_dir / "vocab.txt").is_file():
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(args.model_dir))
        print(f"check_hf_load: tokenizer {type(tokenizer).__name__} loaded ({len(tokenizer)} tokens)")

    if args.expect_weights:
        from safetensors.torch import load_file
        expected = load_file(str(args.expect_weights))
        state = model.state_dict()
        names = [n for n in state if n in expected]
        missing = sorted(set(expected) - set(state))
        if missing:
            fail(f"{args.expect_weights}: tensors the loaded model lacks: {missing[:5]}")
        for name, tensor in expected.items():
            got = state[name]
            if got.shape != tensor.shape or not torch.equal(got.to(tensor.dtype), tensor):
                fail(f"{name}: loaded weight differs from {args.expect_weights}")
        print(f"check_hf_load: {len(names)} weights equal {args.expect_weights}")

    if args.inputs:
        spec = json.loads(args.inputs.read_text())
        input_ids = torch.tensor(spec["input_ids"], dtype=torch.long)
        token_type_ids = torch.tensor(spec.get("token_type_ids", torch.zeros_like(input_ids).tolist()),
                                      dtype=torch.long)
        if "attention_mask" in spec:
            attention_mask = torch.tensor(spec["attention_mask"], dtype=torch.long)
        elif "lengths" in spec:
            lengths = torch.tensor(spec["lengths"])
            attention_mask = (torch.arange(input_ids.shape[1])[None, :] < lengths[:, None]).long()
        else:
            attention_mask = torch.ones_like(input_ids)
        model.eval()
        with torch.no_grad():
            outputs = model(input_ids=input_ids, token_type_ids=token_type_ids,
                            attention_mask=attention_mask).logits[:, 0].double()
        if "predictions" not in spec:
            print("check_hf_load: outputs", outputs.tolist())
            return 0
        want = torch.tensor(spec["predictions"], dtype=torch.float64)
        if want.shape != outputs.shape:
            fail(f"{args.inputs}: {want.numel()} predictions for {outputs.numel()} inputs")
        diff = (outputs - want).abs()
        bound = args.atol + args.rtol * want.abs()
        worst = int(torch.argmax(diff - bound))
        print(f"check_hf_load: max |transformers - ftengine| = {diff.max().item():.3g} over {want.numel()} outputs")
        if (diff > bound).any():
            fail(f"output {worst}: transformers {outputs[worst].item():.8g}, ftengine {want[worst].item():.8g} "
                 f"(|diff| {diff[worst].item():.3g} > atol {args.atol} + rtol {args.rtol} * |ftengine|)")
    print("check_hf_load: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
