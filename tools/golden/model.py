"""Golden values for model/: Hugging Face's BertForSequenceClassification (num_labels = 1, MSE) on a
tiny random config, and the pretrained MiniLM's last hidden states on real sentences.

Writes below tests/golden/model/:
  config.json              the tiny config (HF's own to_json_file)
  initial.safetensors      its parameters, HF names, F32 (random, with non-trivial biases and
                           LayerNorm weights so that no term of the model is a plain 0 or 1)
  batches.json             the three batches (ids, token types, attention mask, lengths, targets)
  all.json, head.json      per step: loss, predictions, gradient norm, clip coefficient, learning
                           rate; "all" trains every parameter, "head" only the classifier
  all_grads.safetensors    every parameter's gradient at the initial parameters on batch 0
  all_step3.safetensors    every parameter after 3 optimizer steps
  head_grads.safetensors   the classifier's gradients (all others are frozen: requires_grad False)
  head_step3.safetensors   the classifier after 3 steps (the frozen parameters do not move)
  minilm.json              MiniLM (weights/minilm-l6, when present): HF tokenizer ids of four UCDP
                           headlines and last_hidden_state at every real token
The training steps are those of HF Trainer: loss.backward(); clip_grad_norm_(params, 1.0);
AdamW (HF's no-decay grouping: biases and LayerNorm weights get no weight decay) step;
get_linear_schedule_with_warmup step; zero_grad. Dropout is 0 everywhere (only for the golden).
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast,
                          get_linear_schedule_with_warmup)

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent

LR = 1e-3
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0
WARMUP_STEPS = 1
TOTAL_STEPS = 5
STEPS = 3

# Four headlines of the UCDP Georeferenced Event Dataset (Syria; CC BY 4.0, Sundberg and Melander
# 2013), as they appear in ../shared/data/ucdp/ged_syria_2016_2019.csv.
HEADLINES = [
    "Shells target Aleppo city injure and kill more than 16 persons",
    "Aerial bombardment on al-Kharita town kills 5 civilians including 3 children",
    "Warplanes of the regime and the Russian guarantor continue the aerial bombardment on "
    "\u201cde-escalation\u201d area",
    "Casualties and injuries in airstrikes on Kafr Zita and the countryside of Hama and Idlib",
]


def tiny_config(attn_implementation: str) -> BertConfig:
    config = BertConfig(vocab_size=97, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=24, type_vocab_size=2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0,
                        initializer_range=0.1, num_labels=1, problem_type="regression", pad_token_id=0)
    config._attn_implementation = attn_implementation
    return config


def make_model(attn_implementation: str) -> BertForSequenceClassification:
    torch.manual_seed(1234)
    model = BertForSequenceClassification(tiny_config(attn_implementation))
    # HF initialises biases to 0 and LayerNorm weights to 1; move them off those values so every
    # term of the forward and backward is exercised.
    gen = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
    model.train()  # dropout probabilities are 0, so train() only matters for HF's code paths
    return model


def make_batch(gen: torch.Generator, lengths: list[int], vocab: int) -> dict:
    B, T = len(lengths), max(lengths)
    ids = torch.zeros(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(1, vocab, (n,), generator=gen)
        first = n // 2 + 1  # a sentence pair: the second half has token type 1
        types[b, first:n] = 1
        mask[b, :n] = 1
    targets = 2.0 * torch.randn(B, generator=gen)
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
            "lengths": lengths, "targets": targets}


def batch_json(batch: dict) -> dict:
    return {"input_ids": batch["input_ids"].tolist(), "token_type_ids": batch["token_type_ids"].tolist(),
            "attention_mask": batch["attention_mask"].tolist(), "lengths": batch["lengths"],
            "targets": batch["targets"].tolist()}


def forward(model, batch):
    out = model(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                attention_mask=batch["attention_mask"], labels=batch["targets"])
    return out.loss, out.logits.squeeze(-1)


def optimizer_for(model):
    """HF Trainer's grouping (Trainer.get_decay_parameter_names): no decay for biases and LayerNorm."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8)


def train(model, batches, trainable) -> tuple[dict, dict, dict]:
    """Three Trainer-style steps; returns the log, the first step's gradients, the final parameters."""
    for name, p in model.named_parameters():
        p.requires_grad_(trainable(name))
    optimizer = optimizer_for(model)
    scheduler = get_linear_schedule_with_warmup(optimizer, WARMUP_STEPS, TOTAL_STEPS)
    log, grads = {"steps": []}, {}
    for step in range(STEPS):
        batch = batches[step]
        loss, pred = forward(model, batch)
        loss.backward()
        if step == 0:
            grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        lr = optimizer.param_groups[0]["lr"]
        norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], MAX_GRAD_NORM)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        log["steps"].append({"loss": loss.item(), "pred": pred.tolist(), "grad_norm": norm.item(),
                             "clip_coef": min(1.0, MAX_GRAD_NORM / (norm.item() + 1e-6)), "lr": lr})
    params = {n: p.detach().clone() for n, p in model.named_parameters() if trainable(n)}
    return log, grads, params


def save_tensors(path: pathlib.Path, tensors: dict):
    save_file({n: t.contiguous().float() for n, t in tensors.items()}, str(path))


def write_tiny(out: pathlib.Path):
    model = make_model("eager")
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(7)
    # Different padded lengths in every batch, and a longer T in the last one (the model's
    # activation buffers must grow).
    batches = [make_batch(gen, [11, 6, 3, 9], vocab), make_batch(gen, [8, 8, 2, 5], vocab),
               make_batch(gen, [14, 4, 12, 7], vocab)]

    # eager and SDPA attention must agree (the golden must not depend on the choice).
    sdpa = make_model("sdpa")
    loss_e, pred_e = forward(model, batches[0])
    loss_s, pred_s = forward(sdpa, batches[0])
    assert torch.allclose(pred_e, pred_s, rtol=1e-5, atol=1e-6), (pred_e, pred_s)
    del sdpa

    model.config.to_json_file(str(out / "config.json"))
    save_tensors(out / "initial.safetensors", dict(model.named_parameters()))
    (out / "batches.json").write_text(json.dumps([batch_json(b) for b in batches], indent=1) + "\n")
    state = {n: p.detach().clone() for n, p in model.named_parameters()}

    log, grads, params = train(model, batches, lambda name: True)
    log.update(lr=LR, weight_decay=WEIGHT_DECAY, max_grad_norm=MAX_GRAD_NORM, warmup_steps=WARMUP_STEPS,
               total_steps=TOTAL_STEPS)
    (out / "all.json").write_text(json.dumps(log, indent=1) + "\n")
    save_tensors(out / "all_grads.safetensors", grads)
    save_tensors(out / "all_step3.safetensors", params)

    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(state[n])
    log, grads, params = train(model, batches, lambda name: name.startswith("classifier."))
    log.update(lr=LR, weight_decay=WEIGHT_DECAY, max_grad_norm=MAX_GRAD_NORM, warmup_steps=WARMUP_STEPS,
               total_steps=TOTAL_STEPS)
    (out / "head.json").write_text(json.dumps(log, indent=1) + "\n")
    save_tensors(out / "head_grads.safetensors", grads)
    save_tensors(out / "head_step3.safetensors", params)


def write_minilm(out: pathlib.Path):
    directory = ROOT / "weights" / "minilm-l6"
    if not (directory / "model.safetensors").exists():
        print(f"make_golden: model: {directory} absent, minilm.json not written (tools/fetch_minilm.sh)")
        return
    tokenizer = BertTokenizerFast.from_pretrained(str(directory))
    model = BertModel.from_pretrained(str(directory), attn_implementation="eager").eval()
    enc = tokenizer(HEADLINES, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    lengths = enc["attention_mask"].sum(1).tolist()
    record = {"sentences": HEADLINES, "input_ids": enc["input_ids"].tolist(),
              "token_type_ids": enc["token_type_ids"].tolist(), "lengths": lengths,
              "hidden_size": hidden.shape[-1],
              # last_hidden_state rows of the real tokens only, sentence by sentence
              "last_hidden_state": [[[float(f"{v:.8g}") for v in row] for row in hidden[b, :n].tolist()]
                                    for b, n in enumerate(lengths)]}
    (out / "minilm.json").write_text(json.dumps(record) + "\n")


def main(out_dir: pathlib.Path):
    torch.set_num_threads(1)  # deterministic reductions
    write_tiny(out_dir)
    write_minilm(out_dir)
