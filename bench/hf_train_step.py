#!/usr/bin/env python3
"""Hugging Face's side of bench/train_step.cpp: training steps of BertForSequenceClassification
(num_labels = 1, MSE) with torch.optim.AdamW, timed on the same shapes.

One step = forward with labels, loss.backward(), clip_grad_norm_(1.0), optimizer.step(),
optimizer.zero_grad() -- what HF Trainer does -- in train mode (dropout 0.1), on a full batch
(no padding), random initial weights. CPU: float32, torch.set_num_threads(--threads) (use the
thread count ftengine's OpenMP runs with). CUDA: bf16 autocast with SDPA attention (--dtype fp32
for full precision). Prints one line per config: wall time per step and tokens/s (median of
--steps timed steps after --warmup untimed ones), and the process's CPU time per step (all threads).

    python3 bench/hf_train_step.py --threads 2 --configs minilm bert-base --seq 128 --batch 8
    python3 bench/hf_train_step.py --device cuda --configs bert-base --seq 512 --batch 32
"""
import argparse
import statistics
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

CONFIGS = {
    "minilm": dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536),
    "bert-base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}


def run(name: str, args) -> None:
    device = torch.device(args.device)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, num_labels=1, problem_type="regression",
                        **CONFIGS[name])
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).to(device).train()
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=2e-5)
    B, T = args.batch, args.seq
    ids = torch.randint(1000, config.vocab_size, (B, T), device=device)
    mask = torch.ones(B, T, dtype=torch.long, device=device)
    labels = torch.rand(B, device=device) * 2.0
    autocast = device.type == "cuda" and args.dtype == "bf16"

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    times, cpu_times = [], []
    for _ in range(args.steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    t = statistics.median(times)
    cpu = statistics.median(cpu_times)
    precision = ("bf16-autocast" if autocast else "fp32") if device.type == "cuda" else "fp32"
    threads = f" threads={torch.get_num_threads()}" if device.type == "cpu" else ""
    print(f"hf_train_step {name} {device.type} {precision}{threads} T={T} B={B}: "
          f"{t * 1e3:.1f} ms/step (median of {len(times)}; min {min(times) * 1e3:.1f}), {B * T / t:.0f} tokens/s; "
          f"process CPU {cpu * 1e3:.1f} ms/step", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["minilm", "bert-base"], choices=sorted(CONFIGS))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"], help="CUDA only")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    for name in args.configs:
        run(name, args)


if __name__ == "__main__":
    main()
