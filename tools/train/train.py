#!/usr/bin/env python3
"""Trains sparq-wasm's default model on one GPU in a single wall-clock budget and exports it.

Steps: byte-level BPE tokenizer (train split only) -> token streams -> LlamaForCausalLM trained with a
time-based schedule (sequence 1024, then 4096) and synthetic recall rows mixed in -> held-out perplexity,
greedy samples and a pass-key check -> float16 HF directory in OUT/default-hf plus OUT/train_log.csv and
OUT/report.json. Needs torch, transformers, tokenizers, safetensors, numpy (see tools/train/README.md).

usage: train.py --data corpus.jsonl.gz --out DIR [--train-seconds 220] [--seed 0]
       [--init HF_DIR | --init MODEL.gguf --tokenizer tokenizer.json] [--recall-share 0.4] [--repeat-share 0.5]
       [--peak-lr 6e-4] [--long-from 0.4] [--short-len 1024] [--random-share 0]
       (continue from an earlier model: same tokenizer and weights)
"""
import argparse
import csv
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recall import RecallMaker  # noqa: E402
from gguf_init import read_llama_gguf  # noqa: E402

VOCAB = 8192
BOS, EOS = '<|bos|>', '<|eos|>'  # ids 0 and 1
MODEL = dict(hidden_size=512, intermediate_size=1408, num_hidden_layers=8, num_attention_heads=8,
             num_key_value_heads=2, head_dim=64, max_position_embeddings=4096, rms_norm_eps=1e-5,
             tie_word_embeddings=True, hidden_act='silu')
ROPE_THETA = 10000.0
TOKENS_PER_STEP = 131072
SHORT_LEN, LONG_LEN, LONG_FROM = 1024, 4096, 0.4  # rows of SHORT_LEN tokens, then of 4096 from this fraction of the time on
RECALL_SHARE = 0.4                    # share of rows that are synthetic (pass key, key-value, repeat)
REPEAT_SHARE = 0.5                    # share of the synthetic rows that are repeat rows
ANSWER_WEIGHT = 10.0                  # loss weight of a recall row's answer tokens (all others 1)
COPY_WEIGHT = 2.0                     # loss weight of a repeat row's second copy
PASSKEY_BONUS = 0.2                   # checkpoint score: val NLL 4K - PASSKEY_BONUS * pass-key accuracy (val filler)
REPEAT_BONUS = 0.2                    #   - REPEAT_BONUS * repetition score (val passages)
SOURCE_WEIGHT = {'gutenberg': 1.0, 'sotu': 1.0, 'brown': 1.0, 'kjv': 0.7, 'pydoc': 0.5}
PEAK_LR, FINAL_LR_FRAC, WARMUP_STEPS, WEIGHT_DECAY = 1.5e-3, 0.1, 60, 0.1
EVAL_EVERY_S = 30.0
DROPOUT = 0.1  # on each block's attention and MLP output, training only (the data is seen ~17 times)


def log(*a):
    print(f'[{time.strftime("%H:%M:%S")}]', *a, flush=True)


def add_dropout(model):
    def hook(module, _inputs, out):
        if isinstance(out, tuple):
            return (F.dropout(out[0], DROPOUT, module.training),) + tuple(out[1:])
        return F.dropout(out, DROPOUT, module.training)
    for layer in model.model.layers:
        layer.self_attn.register_forward_hook(hook)
        layer.mlp.register_forward_hook(hook)


def train_tokenizer(texts):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, special_tokens=[BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single=f'{BOS} $A', special_tokens=[(BOS, 0)])
    assert tok.token_to_id(BOS) == 0 and tok.token_to_id(EOS) == 1
    return tok


def tokenize_docs(tok, docs):
    """One uint16 stream per (split, source): each document as its tokens followed by EOS, BOS before the next."""
    encs = tok.encode_batch([d['text'] for d in docs], add_special_tokens=False)
    streams = {}
    for d, e in zip(docs, encs):
        streams.setdefault((d['split'], d['source']), []).append(np.array([0] + e.ids + [1], dtype=np.uint16))
    return {k: np.concatenate(v) for k, v in streams.items()}


def make_optimizer(model, lr):
    """Fused AdamW (0.9, 0.95), weight decay WEIGHT_DECAY on matrices and none on norms."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{'params': decay, 'weight_decay': WEIGHT_DECAY}, {'params': no_decay, 'weight_decay': 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)


def optimizer_step(model, opt, loss):
    """One update from `loss`, gradients clipped to norm 1.0."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def lr_at(step, frac, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (FINAL_LR_FRAC + (1 - FINAL_LR_FRAC) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def seq_len_at(frac, long_from, short_len):
    return LONG_LEN if frac >= long_from else short_len


def windows_of(stream, length, max_windows=None):
    """Non-overlapping rows BOS + length-1 stream tokens."""
    n = (len(stream) - 1) // (length - 1)
    if max_windows:
        n = min(n, max_windows)
    rows = [np.concatenate([[0], stream[i * (length - 1):(i + 1) * (length - 1)]]) for i in range(n)]
    return torch.tensor(np.stack(rows).astype(np.int64))


@torch.no_grad()
def token_nll(model, rows, batch=8):
    """Per-position NLL, shape [rows, length-1], for the predictions of tokens 1..length-1."""
    out = []
    for i in range(0, len(rows), batch):
        x = rows[i:i + batch].cuda()
        with torch.autocast('cuda', dtype=torch.bfloat16):
            logits = model(input_ids=x, use_cache=False).logits
        nll = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), x[:, 1:], reduction='none')
        out.append(nll.cpu())
    return torch.cat(out)


def heldout_nll(model, streams, split, length):
    """Mean NLL per token over non-overlapping windows of every source in `split`, and overall."""
    res, tot, cnt = {}, 0.0, 0
    for (sp, src), s in sorted(streams.items()):
        if sp != split:
            continue
        nll = token_nll(model, windows_of(s, length))
        res[src] = nll.mean().item()
        tot += nll.sum().item()
        cnt += nll.numel()
    res['all'] = tot / cnt
    return res


@torch.no_grad()
def greedy(model, ids, n):
    x = torch.tensor([ids], device='cuda')
    with torch.autocast('cuda', dtype=torch.bfloat16):
        y = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=n, do_sample=False,
                           pad_token_id=1, eos_token_id=1)
    return y[0, len(ids):].tolist()


@torch.no_grad()
def passkey_accuracy(model, tok, maker, stream, length, trials, seed, verbose=True):
    rng = np.random.default_rng(seed)
    rows, keys, depths = [], [], []
    for t in range(trials):
        row, key, depth, _ = maker.passkey_row(rng, stream, length - 8, with_answer=False)  # room for the answer
        rows.append(row)
        keys.append(key)
        depths.append(depth)
    x = torch.tensor(np.stack(rows), device='cuda')
    hits = []
    for i in range(0, len(x), 10):
        with torch.autocast('cuda', dtype=torch.bfloat16):
            y = model.generate(input_ids=x[i:i + 10], attention_mask=torch.ones_like(x[i:i + 10]),
                               max_new_tokens=6, do_sample=False, pad_token_id=1, eos_token_id=1)
        for j, r in enumerate(y[:, length - 8:].tolist()):
            hits.append(tok.decode(r).strip().startswith(keys[i + j]))
            if verbose and i + j < 3:
                log(f'pass key {length}: key {keys[i + j]} depth {depths[i + j]:.2f} -> {tok.decode(r)!r}')
    return sum(hits) / len(hits), [(round(d, 2), h) for d, h in zip(depths, hits)]


@torch.no_grad()
def repetition_score(model, stream, rows=8, passage=496, lead=16, new=16):
    """The Repetition task in miniature: BOS + a passage + its first `lead` tokens, greedy `new` tokens; the mean
    share of them that match the passage before the first divergence."""
    starts = np.linspace(0, len(stream) - passage - 1, rows).astype(int)
    x = torch.tensor(np.stack([np.concatenate([[0], stream[o:o + passage], stream[o:o + lead]]) for o in starts]).astype(np.int64),
                     device='cuda')
    with torch.autocast('cuda', dtype=torch.bfloat16):
        y = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=new, do_sample=False,
                           pad_token_id=1, eos_token_id=None)[:, x.shape[1]:].cpu().numpy()
    score = 0.0
    for o, got in zip(starts, y):
        want = stream[o + lead:o + lead + new]
        n = 0
        while n < min(len(got), len(want)) and got[n] == want[n]:
            n += 1
        score += n / new
    return score / rows


def export(model, tok, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    half = LlamaForCausalLM(model.config)
    half.load_state_dict(model.state_dict())
    half = half.to(torch.float16)
    half.save_pretrained(out_dir, max_shard_size='14MB', safe_serialization=True)
    cfg_path = os.path.join(out_dir, 'config.json')
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg.setdefault('rope_theta', cfg.get('rope_parameters', {}).get('rope_theta', ROPE_THETA))  # transformers 5 nests it; keep both
    with open(cfg_path, 'w') as f:
        json.dump(cfg, f, indent=2)
    tok.save(os.path.join(out_dir, 'tokenizer.json'))
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w') as f:
        json.dump({'tokenizer_class': 'PreTrainedTokenizerFast', 'bos_token': BOS, 'eos_token': EOS,
                   'add_bos_token': True, 'add_eos_token': False, 'model_max_length': MODEL['max_position_embeddings'],
                   'clean_up_tokenization_spaces': False}, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--train-seconds', type=float, default=220.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--init', help='HF directory written by an earlier run, or its GGUF: fine-tune it (its tokenizer is reused)')
    ap.add_argument('--tokenizer', help='tokenizer.json of the --init model (default: the one in the --init directory)')
    ap.add_argument('--recall-share', type=float, default=RECALL_SHARE)
    ap.add_argument('--repeat-share', type=float, default=REPEAT_SHARE)
    ap.add_argument('--peak-lr', type=float, default=PEAK_LR)
    ap.add_argument('--long-from', type=float, default=LONG_FROM)
    ap.add_argument('--short-len', type=int, default=SHORT_LEN, help='row length before --long-from (a power of two)')
    ap.add_argument('--random-share', type=float, default=0.0, help='share of repeat rows whose span is random tokens')
    a = ap.parse_args()
    warmup = 20 if a.init else WARMUP_STEPS
    t_start = time.time()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    os.makedirs(a.out, exist_ok=True)

    with gzip.open(a.data, 'rt', encoding='utf-8') as f:
        docs = [json.loads(l) for l in f]
    if a.init:
        tok = Tokenizer.from_file(a.tokenizer or os.path.join(a.init, 'tokenizer.json'))
        log(f'tokenizer from {a.tokenizer or a.init}: {tok.get_vocab_size()} tokens')
    else:
        tok = train_tokenizer(d['text'] for d in docs if d['split'] == 'train')
        log(f'tokenizer trained: {tok.get_vocab_size()} tokens')
    streams = tokenize_docs(tok, docs)
    counts = {f'{sp}/{src}': int(len(s)) for (sp, src), s in sorted(streams.items())}
    chars = {}
    for d in docs:
        chars[f"{d['split']}/{d['source']}"] = chars.get(f"{d['split']}/{d['source']}", 0) + len(d['text'])
    log('tokens:', counts)
    train_src = sorted(src for sp, src in streams if sp == 'train')
    p_src = np.array([len(streams[('train', s)]) * SOURCE_WEIGHT[s] for s in train_src])
    p_src /= p_src.sum()
    log('row share by source:', dict(zip(train_src, np.round(p_src, 3).tolist())))
    maker = RecallMaker(tok, 0, 1)

    config = LlamaConfig(vocab_size=VOCAB, bos_token_id=0, eos_token_id=1, rope_theta=ROPE_THETA,
                         attn_implementation='sdpa', **MODEL)
    if a.init and a.init.endswith('.gguf'):
        model = LlamaForCausalLM(config)
        _meta, sd = read_llama_gguf(a.init)
        missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
        assert not unexpected and set(missing) <= {'lm_head.weight'}, (missing, unexpected)  # lm_head is tied
        model = model.cuda()
    elif a.init:
        model = LlamaForCausalLM.from_pretrained(a.init, torch_dtype=torch.float32, attn_implementation='sdpa').cuda()
    else:
        model = LlamaForCausalLM(config).cuda()
    add_dropout(model)
    n_params = sum(p.numel() for p in model.parameters())
    log(f'params: {n_params / 1e6:.2f} M; rope: {getattr(config, "rope_parameters", None) or config.rope_theta}')
    opt = make_optimizer(model, a.peak_lr)

    val_stream = np.concatenate([s for (sp, _), s in sorted(streams.items()) if sp == 'val'])
    val_rows = windows_of(val_stream, 4096, max_windows=24)
    val_passkey = lambda: passkey_accuracy(model, tok, maker, val_stream, 2048, 20, seed=7, verbose=False)[0]
    log_f = open(os.path.join(a.out, 'train_log.csv'), 'w', newline='')
    log_w = csv.writer(log_f)
    log_w.writerow(['step', 'seconds', 'tokens', 'seq_len', 'lr', 'train_loss', 'val_loss_1k', 'val_loss_4k',
                    'val_passkey_2k', 'val_repetition'])
    best = (float('inf'), None, -1)  # (score, weights, step)
    step, tokens, window, frac, L = 0, 0, [], 0.0, a.short_len
    t0 = time.time()
    next_eval = EVAL_EVERY_S
    log(f'setup took {t0 - t_start:.1f}s; training for {a.train_seconds:.0f}s')
    model.train()
    while True:
        elapsed = time.time() - t0
        frac = elapsed / a.train_seconds
        last = frac >= 1.0
        if elapsed >= next_eval or last:
            model.eval()
            nll = token_nll(model, val_rows)
            v1, v4 = nll[:, :1023].mean().item(), nll.mean().item()
            pk = val_passkey()
            rp = repetition_score(model, val_stream)
            model.train()
            log_w.writerow([step, round(elapsed, 1), tokens, L, '', '', round(v1, 4), round(v4, 4), pk, round(rp, 3)])
            log_f.flush()
            log(f'step {step} val loss 1k {v1:.4f} 4k {v4:.4f} pass key 2k {pk:.2f} repetition {rp:.2f}')
            score = v4 - PASSKEY_BONUS * pk - REPEAT_BONUS * rp
            if L == 4096 and score < best[0]:
                best = (score, {k: v.detach().clone() for k, v in model.state_dict().items()}, step)
            next_eval += EVAL_EVERY_S
        if last:
            break
        L = seq_len_at(frac, a.long_from, a.short_len)
        B = TOKENS_PER_STEP // L
        n_recall = int(round(B * a.recall_share))  # synthetic rows: recall and repeat
        rows = []
        for src in rng.choice(train_src, size=B - n_recall, p=p_src):
            s = streams[('train', src)]
            off = int(rng.integers(0, len(s) - L))
            rows.append(np.concatenate([[0], s[off:off + L - 1]]).astype(np.int64))
        weight = np.ones((B, L - 1), dtype=np.float32)  # per target position (token t+1 predicted at t)
        for r in range(B - n_recall, B):
            stream = streams[('train', train_src[rng.choice(len(train_src), p=p_src)])]
            row, weight[r] = maker.training_row(rng, stream, L, a.repeat_share, ANSWER_WEIGHT, COPY_WEIGHT, a.random_share)
            rows.append(row)
        x = torch.from_numpy(np.stack(rows)).cuda(non_blocking=True)
        w = torch.from_numpy(weight).cuda(non_blocking=True)
        lr = lr_at(step, frac, a.peak_lr, warmup)
        for g in opt.param_groups:
            g['lr'] = lr
        with torch.autocast('cuda', dtype=torch.bfloat16):
            logits = model(input_ids=x, use_cache=False).logits
        nll = F.cross_entropy(logits[:, :-1].float().reshape(-1, VOCAB), x[:, 1:].reshape(-1), reduction='none')
        loss = (nll * w.reshape(-1)).sum() / w.sum()
        optimizer_step(model, opt, loss)
        step += 1
        tokens += x.numel()
        window.append(nll.detach().mean())  # the curve logs the plain mean NLL
        if step % 10 == 0:
            tl = torch.stack(window).mean().item()
            window = []
            log_w.writerow([step, round(time.time() - t0, 1), tokens, L, f'{lr:.6f}', round(tl, 4), '', ''])
            log_f.flush()
            if step % 50 == 0:
                log(f'step {step} L {L} lr {lr:.2e} loss {tl:.4f} tok/s {tokens / (time.time() - t0):,.0f}')
    train_time = time.time() - t0
    log_f.close()
    log(f'trained {step} steps, {tokens / 1e6:.1f} M tokens in {train_time:.0f}s; best score {best[0]:.4f} at step {best[2]}')
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()

    report = {'init': a.init, 'long_from': a.long_from, 'short_len': a.short_len, 'random_share': a.random_share, 'recall_share': a.recall_share, 'repeat_share': a.repeat_share, 'peak_lr': a.peak_lr,
              'chosen_score': best[0], 'params': n_params, 'steps': step, 'train_tokens_seen': tokens, 'train_seconds': round(train_time, 1),
              'chosen_step': best[2], 'stream_tokens': counts, 'chars': chars,
              'row_share_by_source': dict(zip(train_src, np.round(p_src, 4).tolist()))}
    train_rows = torch.cat([windows_of(streams[('train', s)], 4096, max_windows=8) for s in train_src])
    report['train_nll_4k'] = token_nll(model, train_rows).mean().item()
    for L in (1024, 4096):
        report[f'val_nll_{L}'] = heldout_nll(model, streams, 'val', L)
        report[f'test_nll_{L}'] = heldout_nll(model, streams, 'test', L)
    log('train nll 4k', report['train_nll_4k'], 'test nll', report['test_nll_1024'], report['test_nll_4096'])

    prompts = ['Fellow-Citizens of the Senate and House of Representatives:',
               'Father Brown looked at the stranger and said',
               'It was a cold morning in the village, and']
    report['samples'] = []
    for p in prompts:
        text = tok.decode(greedy(model, [0] + tok.encode(p, add_special_tokens=False).ids, 60))
        report['samples'].append({'prompt': p, 'greedy': text})
        log(f'PROMPT: {p!r}\nGREEDY: {text!r}')

    test_stream = np.concatenate([s for (sp, _), s in sorted(streams.items()) if sp == 'test'])
    report['repetition_test'] = repetition_score(model, test_stream, rows=24)
    log(f"repetition (test passages, share of 16 tokens copied): {report['repetition_test']:.3f}")
    report['passkey'] = {}
    for L in (1024, 2048, 4096):
        acc, detail = passkey_accuracy(model, tok, maker, test_stream, L, 40, seed=1000 + L)
        report['passkey'][L] = {'accuracy': acc, 'trials': detail}
        log(f'pass key {L}: {acc:.3f}')

    export(model, tok, os.path.join(a.out, 'default-hf'))
    with open(os.path.join(a.out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    log(f'done in {time.time() - t_start:.0f}s')


if __name__ == '__main__':
    main()
