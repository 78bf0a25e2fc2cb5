"""Golden values for the CPU ops (core/cpu/): PyTorch's and Hugging Face's own code in float32 on
small random inputs, forward outputs and autograd gradients.

Writes tests/golden/ops/ops.json with one entry per op; every tensor is a flat list of float32
values (row-major) and every entry records its shapes:
  linear           torch.nn.functional.linear: y, and dx, dw, db for dy
  layernorm        F.layer_norm(x + residual, eps=1e-12): out, and dx (= dresidual), dgamma, dbeta
  gelu             F.gelu (exact erf): y, and dx for dy
  attention        HF's eager_attention_forward with BERT's additive finfo.min key mask (what SDPA
                   computes in eval): out, logsumexp of the masked scaled scores, and dqkv for dout
  embedding        HF's BertEmbeddings (eval): out, and the gradients of the three tables,
                   gamma and beta for dout (dout is 0 at padded positions, as in the model)
  pooler           HF's BertPooler: pooled, and dhidden, dw, db for dpooled
  regression_head  HF's classifier Linear(C, 1) and MSELoss as BertForSequenceClassification
                   applies them: pred, loss, and dpooled, dw, db of the loss
  adamw            torch.optim.AdamW (foreach=False, HF's defaults betas (0.9, 0.999), eps 1e-8) on
                   two tensors (weight decay 0.01 and 0), three steps with gradients pre-scaled
                   by a clipping coefficient: params, exp_avg, exp_avg_sq after each step
"""
import json
import pathlib

import torch
import torch.nn.functional as F
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertEmbeddings, BertPooler, eager_attention_forward


def flat(t: torch.Tensor) -> list:
    return t.detach().to(torch.float32).reshape(-1).tolist()


class Rand:
    """Uniform values in [-scale, scale], float32, from a fixed seed."""

    def __init__(self, seed: int):
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, *shape, scale=1.0) -> torch.Tensor:
        u = torch.rand(*shape, generator=self.gen, dtype=torch.float64)
        return ((2.0 * u - 1.0) * scale).to(torch.float32)


def linear(r: Rand) -> dict:
    n, d_in, d_out = 5, 24, 18
    x = r(n, d_in).requires_grad_()
    w = r(d_out, d_in, scale=0.3).requires_grad_()
    b = r(d_out).requires_grad_()
    dy = r(n, d_out)
    y = F.linear(x, w, b)
    y.backward(dy)
    return dict(N=n, **{"in": d_in}, out=d_out, x=flat(x), w=flat(w), b=flat(b), dy=flat(dy), y=flat(y),
                dx=flat(x.grad), dw=flat(w.grad), db=flat(b.grad))


def layernorm(r: Rand) -> dict:
    n, c = 6, 48
    x = r(n, c, scale=2.0).requires_grad_()
    res = r(n, c, scale=2.0).requires_grad_()
    gamma = r(c).requires_grad_()
    beta = r(c).requires_grad_()
    dout = r(n, c)
    out = F.layer_norm(x + res, (c,), gamma, beta, eps=1e-12)
    out.backward(dout)
    return dict(N=n, C=c, x=flat(x), residual=flat(res), gamma=flat(gamma), beta=flat(beta), dout=flat(dout),
                out=flat(out), dx=flat(x.grad), dresidual=flat(res.grad), dgamma=flat(gamma.grad),
                dbeta=flat(beta.grad))


def gelu(r: Rand) -> dict:
    n = 257
    x = r(n, scale=5.0).requires_grad_()
    dy = r(n)
    y = F.gelu(x)
    y.backward(dy)
    return dict(n=n, x=flat(x), dy=flat(dy), y=flat(y), dx=flat(x.grad))


def attention(r: Rand) -> dict:
    b, t, h, d = 3, 7, 2, 8
    c = h * d
    lengths = [7, 1, 4]
    qkv = r(b, t, 3 * c, scale=1.5).requires_grad_()
    dout = r(b, t, c)

    def heads(x):  # (B, T, C) -> (B, H, T, D), as BertSelfAttention
        return x.view(b, t, h, d).transpose(1, 2)

    q, k, v = heads(qkv[:, :, :c]), heads(qkv[:, :, c:2 * c]), heads(qkv[:, :, 2 * c:])
    keep = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]  # (B, T)
    mask = torch.zeros(b, 1, 1, t)
    mask.masked_fill_(~keep[:, None, None, :], torch.finfo(torch.float32).min)
    module = torch.nn.Module().eval()
    scaling = d ** -0.5
    out, _ = eager_attention_forward(module, q, k, v, mask, scaling=scaling, dropout=0.0)
    out = out.reshape(b, t, c)
    out.backward(dout)
    with torch.no_grad():
        scores = torch.matmul(q, k.transpose(2, 3)) * scaling + mask
        lse = torch.logsumexp(scores, dim=-1)  # (B, H, T)
    return dict(B=b, T=t, H=h, D=d, lengths=lengths, scale=scaling, qkv=flat(qkv), dout=flat(dout), out=flat(out),
                lse=flat(lse), dqkv=flat(qkv.grad))


def embedding(r: Rand) -> dict:
    config = BertConfig(vocab_size=50, hidden_size=24, max_position_embeddings=16, type_vocab_size=2,
                        layer_norm_eps=1e-12, hidden_dropout_prob=0.0, pad_token_id=0)
    emb = BertEmbeddings(config).eval()
    with torch.no_grad():
        emb.word_embeddings.weight.copy_(r(50, 24))
        emb.position_embeddings.weight.copy_(r(16, 24))
        emb.token_type_embeddings.weight.copy_(r(2, 24))
        emb.LayerNorm.weight.copy_(r(24))
        emb.LayerNorm.bias.copy_(r(24))
    b, t = 2, 7
    lengths = [7, 5]
    ids = torch.tensor([[2, 17, 17, 33, 49, 5, 3], [2, 8, 17, 40, 3, 0, 0]])  # 0 = [PAD]
    types = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]])
    dout = r(b, t, 24)
    for i, n in enumerate(lengths):
        dout[i, n:] = 0.0  # padded rows get no gradient in the model
    out = emb(input_ids=ids, token_type_ids=types)
    out.backward(dout)
    return dict(B=b, T=t, C=24, vocab=50, max_positions=16, type_vocab=2, input_ids=ids.reshape(-1).tolist(),
                token_type_ids=types.reshape(-1).tolist(), word=flat(emb.word_embeddings.weight),
                pos=flat(emb.position_embeddings.weight), type=flat(emb.token_type_embeddings.weight),
                gamma=flat(emb.LayerNorm.weight), beta=flat(emb.LayerNorm.bias), dout=flat(dout), out=flat(out),
                dword=flat(emb.word_embeddings.weight.grad), dpos=flat(emb.position_embeddings.weight.grad),
                dtype=flat(emb.token_type_embeddings.weight.grad), dgamma=flat(emb.LayerNorm.weight.grad),
                dbeta=flat(emb.LayerNorm.bias.grad))


def pooler(r: Rand) -> dict:
    b, t, c = 3, 4, 20
    pool = BertPooler(BertConfig(hidden_size=c))
    with torch.no_grad():
        pool.dense.weight.copy_(r(c, c, scale=0.4))
        pool.dense.bias.copy_(r(c))
    hidden = r(b, t, c).requires_grad_()
    dpooled = r(b, c)
    pooled = pool(hidden)
    pooled.backward(dpooled)
    return dict(B=b, T=t, C=c, hidden=flat(hidden), w=flat(pool.dense.weight), b=flat(pool.dense.bias),
                dpooled=flat(dpooled), pooled=flat(pooled), dhidden=flat(hidden.grad), dw=flat(pool.dense.weight.grad),
                db=flat(pool.dense.bias.grad))


def regression_head(r: Rand) -> dict:
    b, c = 6, 20
    classifier = torch.nn.Linear(c, 1)
    with torch.no_grad():
        classifier.weight.copy_(r(1, c, scale=0.5))
        classifier.bias.copy_(r(1))
    pooled = r(b, c).requires_grad_()
    targets = r(b, scale=2.0)
    logits = classifier(pooled)  # (B, 1), as BertForSequenceClassification
    loss = torch.nn.MSELoss()(logits.squeeze(), targets.squeeze())
    loss.backward()
    return dict(B=b, C=c, pooled=flat(pooled), w=flat(classifier.weight), b=flat(classifier.bias),
                targets=flat(targets), pred=flat(logits), loss=loss.item(), dpooled=flat(pooled.grad),
                dw=flat(classifier.weight.grad), db=flat(classifier.bias.grad))


def adamw(r: Rand) -> dict:
    decayed = r(301).requires_grad_()
    plain = r(45).requires_grad_()
    initial = [flat(decayed), flat(plain)]
    opt = torch.optim.AdamW([{"params": [decayed], "weight_decay": 0.01}, {"params": [plain], "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    lrs = [1e-3, 5e-4, 2.5e-4]  # set per step, as HF's scheduler does
    grad_scales = [1.0, 0.5, 0.25]  # clipping coefficients, exact in float32
    steps = []
    for lr, scale in zip(lrs, grad_scales):
        grads = [r(301, scale=3.0), r(45, scale=3.0)]
        for group in opt.param_groups:
            group["lr"] = lr
        decayed.grad = grads[0] * torch.tensor(scale)  # clip_grad_norm_ scales the gradients in place
        plain.grad = grads[1] * torch.tensor(scale)
        opt.step()
        st = [opt.state[decayed], opt.state[plain]]
        steps.append(dict(lr=lr, grad_scale=scale, grads=[flat(g) for g in grads],
                          params=[flat(decayed), flat(plain)], exp_avg=[flat(s["exp_avg"]) for s in st],
                          exp_avg_sq=[flat(s["exp_avg_sq"]) for s in st]))
    return dict(sizes=[301, 45], weight_decay=[0.01, 0.0], beta1=0.9, beta2=0.999, eps=1e-8, initial=initial,
                steps=steps)


def main(out_dir: pathlib.Path):
    # One thread: MKL's GEMM results depend on the thread count, and the file must be the same on
    # every run.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    r = Rand(2024)
    golden = dict(torch_version=torch.__version__, linear=linear(r), layernorm=layernorm(r), gelu=gelu(r),
                  attention=attention(r), embedding=embedding(r), pooler=pooler(r),
                  regression_head=regression_head(r), adamw=adamw(r))
    (out_dir / "ops.json").write_text(json.dumps(golden) + "\n")
    torch.set_num_threads(threads)
