"""Checkpoint test files, written by Hugging Face transformers and PyTorch themselves.

Writes below tests/golden/checkpoints/ (all small, about 0.6 MB in all):

  config.json, model.safetensors   a tiny random BertForSequenceClassification (num_labels 1,
                                   regression; vocab 128, hidden 32, 2 layers, 2 heads, FFN 64,
                                   64 positions) saved by save_pretrained
  pytorch_model.bin                the same state dict saved by torch.save, which is what
                                   save_pretrained(safe_serialization=False) wrote before
                                   transformers 5 removed that option
  pytorch_model_bf16.bin           the same tensors converted to bfloat16 by torch, torch.save'd
  pytorch_model_fp16.bin           ... converted to float16
  legacy_unprefixed.bin            the same tensors under old names: no "bert." prefix and
                                   LayerNorm.gamma / LayerNorm.beta
  masked_lm.bin                    a BertForMaskedLM of the same config (no pooler, no classifier,
                                   cls.predictions.* with the decoder weight sharing the word
                                   embeddings' storage) plus an int64 embeddings.position_ids
                                   buffer, like ConfliBERT's pytorch_model.bin
  views.bin, views_expected.safetensors
                                   tensors saved as views (transposed, sliced with a storage
                                   offset, several tensors on one storage, a scalar, an empty
                                   tensor, float64 / int64 / int32 / bfloat16 / float16) and the
                                   values they must load to, made contiguous by torch;
                                   views_protocol4.bin: the same saved with pickle protocol 4
  predictions.json                 token ids and the model's regression outputs in eval mode,
                                   for tools/check_hf_load.py
"""
import collections
import json
import pathlib

import torch
import transformers
from safetensors.torch import save_file

SEED = 1234


def tiny_config() -> transformers.BertConfig:
    return transformers.BertConfig(
        vocab_size=128,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        type_vocab_size=2,
        num_labels=1,
        problem_type="regression",
    )


def legacy_name(name: str) -> str:
    if name.startswith("bert."):
        name = name[len("bert."):]
    if name.endswith("LayerNorm.weight"):
        name = name[: -len("weight")] + "gamma"
    elif name.endswith("LayerNorm.bias"):
        name = name[: -len("bias")] + "beta"
    return name


def views_state_dict() -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(SEED + 7)
    base = torch.randn(6, 5, generator=g)
    shared = torch.randn(40, generator=g)
    wide = torch.randn(4, 3, 5, generator=g, dtype=torch.float64)
    views = collections.OrderedDict()
    views["transposed"] = base.t()                        # (5, 6), strides (1, 5)
    views["row_slice"] = base[2:5]                        # storage offset 10
    views["column_slice"] = base[:, 1:4]                  # non-contiguous, offset 1
    views["shared_head"] = shared[:12].view(3, 4)         # three tensors on one storage
    views["shared_tail"] = shared[30:]                    # offset 30
    views["shared_strided"] = shared[1:40:7]              # stride 7
    views["permuted_f64"] = wide.permute(2, 0, 1)         # (5, 4, 3)
    views["scalar"] = torch.tensor(3.25)
    views["empty"] = torch.zeros(0, 3)
    views["positions_i64"] = torch.arange(10, dtype=torch.int64).view(1, 10)
    views["ints_i32"] = torch.tensor([[-7, 0, 9]], dtype=torch.int32).t()
    views["bf16"] = torch.randn(3, 4, generator=g).to(torch.bfloat16)[:, ::2]
    views["fp16"] = torch.randn(4, 2, generator=g).to(torch.float16).t()
    expected = {k: v.contiguous().clone() for k, v in views.items()}
    return views, expected


def main(out_dir: pathlib.Path) -> None:
    torch.manual_seed(SEED)
    config = tiny_config()
    model = transformers.BertForSequenceClassification(config).eval()
    model.save_pretrained(out_dir)  # config.json + model.safetensors (transformers' own writer)

    state = collections.OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
    torch.save(state, out_dir / "pytorch_model.bin")
    torch.save(collections.OrderedDict((k, v.to(torch.bfloat16)) for k, v in state.items()),
               out_dir / "pytorch_model_bf16.bin")
    torch.save(collections.OrderedDict((k, v.to(torch.float16)) for k, v in state.items()),
               out_dir / "pytorch_model_fp16.bin")
    torch.save(collections.OrderedDict((legacy_name(k), v) for k, v in state.items()),
               out_dir / "legacy_unprefixed.bin")

    torch.manual_seed(SEED + 1)
    mlm = transformers.BertForMaskedLM(tiny_config()).eval()
    mlm_state = mlm.state_dict()  # the decoder weight is tied to (shares storage with) word embeddings
    assert mlm_state["cls.predictions.decoder.weight"].data_ptr() == \
        mlm_state["bert.embeddings.word_embeddings.weight"].data_ptr()
    mlm_state["bert.embeddings.position_ids"] = torch.arange(config.max_position_embeddings).view(1, -1)
    torch.save(mlm_state, out_dir / "masked_lm.bin")

    views, expected = views_state_dict()
    torch.save(views, out_dir / "views.bin")
    torch.save(views, out_dir / "views_protocol4.bin", pickle_protocol=4)  # FRAME, MEMOIZE, STACK_GLOBAL, ...
    save_file(expected, str(out_dir / "views_expected.safetensors"), metadata={"format": "pt"})

    g = torch.Generator().manual_seed(SEED + 2)
    input_ids = torch.randint(4, config.vocab_size, (3, 9), generator=g)
    input_ids[:, 0] = 2  # a [CLS]-like id; the vocabulary is synthetic
    lengths = torch.tensor([9, 6, 3])
    attention_mask = (torch.arange(9)[None, :] < lengths[:, None]).long()
    input_ids = input_ids * attention_mask  # pad id 0 past the length
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[0, 5:] = 1
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits
    (out_dir / "predictions.json").write_text(json.dumps({
        "input_ids": input_ids.tolist(),
        "token_type_ids": token_type_ids.tolist(),
        "attention_mask": attention_mask.tolist(),
        "predictions": logits[:, 0].tolist(),
    }, indent=1) + "\n")

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"tok{i}" for i in range(5, config.vocab_size)]
    (out_dir / "vocab.txt").write_text("\n".join(vocab) + "\n")
