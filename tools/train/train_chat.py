#!/usr/bin/env python3
"""Fine-tunes the committed default model into a chat model (ChatML turns, long-document questions, copying).

Steps: the GGUF's weights (gguf_init) and tokenizer (chat_vocab, + <|im_start|> <|im_end|>; their embedding
rows start at the mean of the existing rows) -> training on a time-based schedule whose rows are built by
worker processes from the train split only (chat_data: document questions, copying, multi-turn; random-token
copy rows; plain text), short rows first -> held-out NLL, chat scores at 1K/2K/4K, greedy samples -> float16
HF directory OUT/default-hf (tokenizer_config.json carries the chat template) + OUT/train_log.csv, report.json.

Chat scores here are teacher-forced: a trial counts when the argmax at every answer position is the answer
token (what greedy decoding would produce); for copying, the 32 tokens after the quote.

With --rope-theta the model gets a new RoPE base; with --distill the plain-text rows are trained against the
frozen init model's next-token distribution (soft cross-entropy) instead of the text, so the fine-tune stops
memorising the small training text (tools/train/README.md, calls 10-12, says why both).

usage: train_chat.py --data corpus.jsonl.gz --init models/default.gguf --tokenizer chat-tokenizer.json --out DIR
       [--train-seconds 300] [--phases 0.15:512,0.4:2048,1:4096] [--peak-lr 6e-4] [--workers 12]
       [--mix 512=.3/.1/.3/.3,...] [--task-p 0.2,0.2,0.1,0.3,0.2] [--repeat-random-share 0.5]
       [--rope-theta 500000] [--distill] [--copy-score-weight 0.5]
"""
import argparse
import collections
import csv
import gzip
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recall import RecallMaker  # noqa: E402
from gguf_init import read_llama_gguf  # noqa: E402
from chat_data import ChatMaker, IM_END  # noqa: E402
from chat_vocab import CHAT_TEMPLATE, BOS, EOS  # noqa: E402
import train as base  # noqa: E402

VOCAB = 8194
TOKENS_PER_STEP = 131072
# row shares per phase: random-token pairs, long-distance repeats, chat, plain (--mix replaces them)
MIX = {512: (0.30, 0.10, 0.30, 0.30), 1024: (0.15, 0.10, 0.40, 0.35), 2048: (0.10, 0.10, 0.45, 0.35),
       4096: (0.05, 0.05, 0.50, 0.40)}
KINDS = ('pairs', 'repeat', 'chat', 'plain')
EVAL_EVERY_S = 45.0

G = {}  # worker globals (set before the pool forks)


def make_batch(args):
    seed, L, answer_w, copy_w = args
    rng = np.random.default_rng(seed)
    cm, rm, streams, p = G['cm'], G['rm'], G['streams'], G['p_src']
    B = TOKENS_PER_STEP // L
    shares = np.array(G['mix'][L])
    kinds = rng.choice(4, size=B, p=shares / shares.sum())
    rows, ws = [], []
    for k in kinds:
        s = streams[int(rng.choice(len(streams), p=p))]
        if k == 0:
            r, w = cm.random_pairs_row(rng, L, copy_w)
        elif k == 1:
            r, w = rm.training_row(rng, s, L, 1.0, 1.0, copy_w, random_share=G['repeat_random_share'])
        elif k == 2:
            r, w = cm.chat_row(rng, s, L, answer_w)
        else:
            r, w = cm.plain_row(rng, s, L)
        rows.append(r)
        ws.append(w)
    return np.stack(rows), np.stack(ws), kinds


def parse_mix(text):
    """'512=.3/.1/.3/.3,4096=...' -> {512: (.3, .1, .3, .3), ...} (shares of KINDS per row length)."""
    out = {}
    for part in text.split(','):
        L, shares = part.split('=')
        out[int(L)] = tuple(float(x) for x in shares.split('/'))
        assert len(out[int(L)]) == len(KINDS), part
    return out


def chat_trials(cm, stream, L, task, n, seed):
    """n conversations of about L tokens: (tokens, answer positions to score)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        t, m = cm.conversation(rng, stream, L - 130, task)
        if len(t) > L:
            continue
        m = np.array(m)
        pos = np.flatnonzero(m == 2.0)[:-1]  # answer tokens without the closing <|im_end|>
        if task == 'copy':
            if not t or 'Repeat the text' not in cm.tok.decode(t[-140:]):
                continue
            q = cm.last_quote_len
            pos = pos[q:q + 32]
            if len(pos) < 32:
                continue
        out.append((t, pos))
    return out


@torch.no_grad()
def chat_score(model, trials, batch=8):
    hits = 0
    for i in range(0, len(trials), batch):
        part = trials[i:i + batch]
        L = max(len(t) for t, _ in part)
        x = torch.zeros((len(part), L), dtype=torch.long)
        for j, (t, _) in enumerate(part):
            x[j, :len(t)] = torch.tensor(t)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            pred = model(input_ids=x.cuda(), use_cache=False).logits.argmax(-1).cpu()
        for j, (t, pos) in enumerate(part):
            pos = torch.as_tensor(pos)
            hits += bool((pred[j, pos - 1] == torch.tensor(t)[pos]).all())
    return hits / len(trials)


@torch.no_grad()
def chat_reply(model, tok, ids, n=60):
    x = torch.tensor([ids], device='cuda')
    with torch.autocast('cuda', dtype=torch.bfloat16):
        y = model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=n, do_sample=False,
                           pad_token_id=1, eos_token_id=[1, IM_END])
    return tok.decode(y[0, len(ids):].tolist(), skip_special_tokens=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--init', required=True, help='models/default.gguf')
    ap.add_argument('--tokenizer', required=True, help='tokenizer.json from chat_vocab.py')
    ap.add_argument('--out', required=True)
    ap.add_argument('--train-seconds', type=float, default=300.0)
    ap.add_argument('--phases', default='0.15:512,0.4:2048,1:4096', help='END_FRACTION:ROW_LENGTH,...')
    ap.add_argument('--peak-lr', type=float, default=6e-4)
    ap.add_argument('--answer-weight', type=float, default=5.0)
    ap.add_argument('--copy-weight', type=float, default=2.0)
    ap.add_argument('--dropout', type=float, default=0.1)
    ap.add_argument('--workers', type=int, default=12)
    ap.add_argument('--eval-n', type=int, default=48, help='trials per task and length in the final chat scores')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--mix', default=None, help="row shares per length, '512=.3/.1/.3/.3,...' (pairs/repeat/chat/plain)")
    ap.add_argument('--task-p', default='0.2,0.2,0.1,0.3,0.2', help='chat task shares: passkey,kv,entity,copy,multi')
    ap.add_argument('--repeat-random-share', type=float, default=0.5, help='share of repeat rows whose span is random tokens')
    ap.add_argument('--rope-theta', type=float, default=None,
                    help="RoPE base of the fine-tuned model (default: the init's; the teacher of --distill keeps the init's)")
    ap.add_argument('--distill', action='store_true',
                    help='plain-text rows learn the init model\'s next-token distribution instead of the text')
    ap.add_argument('--copy-score-weight', type=float, default=0.0,
                    help='extra weight of the copy score when choosing the exported checkpoint')
    a = ap.parse_args()
    mix = parse_mix(a.mix) if a.mix else MIX
    phases = [(float(f), int(l)) for f, l in (p.split(':') for p in a.phases.split(','))]
    t_start = time.time()
    torch.manual_seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    os.makedirs(a.out, exist_ok=True)

    tok = Tokenizer.from_file(a.tokenizer)
    assert tok.get_vocab_size() == VOCAB
    with gzip.open(a.data, 'rt', encoding='utf-8') as f:
        docs = [json.loads(l) for l in f]
    streams = base.tokenize_docs(tok, docs)
    counts = {f'{sp}/{src}': int(len(s)) for (sp, src), s in sorted(streams.items())}
    base.log('tokens:', counts)
    train_src = sorted(src for sp, src in streams if sp == 'train')
    p_src = np.array([len(streams[('train', s)]) * base.SOURCE_WEIGHT[s] for s in train_src])
    p_src /= p_src.sum()
    rm = RecallMaker(tok, 0, 1)
    rm.vocab_size = 8192  # random spans use ordinary tokens only
    cm = ChatMaker(tok, rm, task_p=[float(x) for x in a.task_p.split(',')])
    G.update(cm=cm, rm=rm, streams=[streams[('train', s)] for s in train_src], p_src=p_src, mix=mix,
             repeat_random_share=a.repeat_random_share)
    pool = mp.get_context('fork').Pool(a.workers)  # before CUDA is touched

    meta, sd = read_llama_gguf(a.init)
    init_theta = float(meta.get('llama.rope.freq_base', base.ROPE_THETA))
    a.rope_theta = a.rope_theta or init_theta
    config = LlamaConfig(vocab_size=VOCAB, bos_token_id=0, eos_token_id=1, rope_theta=a.rope_theta,
                         attn_implementation='sdpa', **base.MODEL)
    model = LlamaForCausalLM(config)
    emb = sd['model.embed_tokens.weight']
    gen = np.random.default_rng(a.seed)
    # a chat model's GGUF already has the two rows (then nothing is added)
    extra = emb.mean(0, keepdims=True) + 0.02 * emb.std() * gen.standard_normal((VOCAB - emb.shape[0], emb.shape[1]))
    sd['model.embed_tokens.weight'] = np.concatenate([emb, extra.astype(np.float32)])
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert not unexpected and set(missing) <= {'lm_head.weight'}, (missing, unexpected)
    model = model.cuda()
    teacher = None
    if a.distill:  # the init model, frozen, with its own RoPE base: what plain text should keep looking like
        t_config = LlamaConfig(vocab_size=VOCAB, bos_token_id=0, eos_token_id=1, rope_theta=init_theta,
                               attn_implementation='sdpa', **base.MODEL)
        teacher = LlamaForCausalLM(t_config)
        teacher.load_state_dict(model.state_dict())
        teacher = teacher.cuda().eval().requires_grad_(False)
    base.DROPOUT = a.dropout
    base.add_dropout(model)
    opt = base.make_optimizer(model, a.peak_lr)

    val_stream = np.concatenate([s for (sp, _), s in sorted(streams.items()) if sp == 'val'])
    test_stream = np.concatenate([s for (sp, _), s in sorted(streams.items()) if sp == 'test'])
    val_rows = base.windows_of(val_stream, 4096, max_windows=16)
    val_trials = {t: chat_trials(cm, val_stream, 4096, t, 16, 7 + i) for i, t in enumerate(('passkey', 'kv', 'copy'))}
    pool.apply(make_batch, ((999, phases[0][1], a.answer_weight, a.copy_weight),))  # warms the pool

    log_f = open(os.path.join(a.out, 'train_log.csv'), 'w', newline='')
    log_w = csv.writer(log_f)
    log_w.writerow(['step', 'seconds', 'tokens', 'seq_len', 'lr', 'train_loss', 'weighted_loss', 'val_loss_4k',
                    'val_passkey_4k', 'val_kv_4k', 'val_copy_4k'] + [f'loss_{k}' for k in KINDS])
    phase_len = lambda frac: next((L for end, L in phases if frac < end), phases[-1][1])
    queue = collections.deque()
    seed_counter = [a.seed * 1_000_000]

    def submit(L):
        seed_counter[0] += 1
        queue.append((L, pool.apply_async(make_batch, ((seed_counter[0], L, a.answer_weight, a.copy_weight),))))

    for _ in range(2 * a.workers):
        submit(phase_len(0.0))
    best = (float('inf'), None, -1)
    step, tokens, window, wwindow = 0, 0, [], []
    kind_window = [[] for _ in KINDS]
    t0 = time.time()
    next_eval = EVAL_EVERY_S
    base.log(f'setup took {t0 - t_start:.1f}s; training for {a.train_seconds:.0f}s; phases {phases}')
    model.train()
    while True:
        elapsed = time.time() - t0
        frac = elapsed / a.train_seconds
        last = frac >= 1.0
        if elapsed >= next_eval or last:
            model.eval()
            v4 = base.token_nll(model, val_rows).mean().item()
            acc = {t: chat_score(model, tr) for t, tr in val_trials.items()}
            model.train()
            log_w.writerow([step, round(elapsed, 1), tokens, L, '', '', '', round(v4, 4), acc['passkey'], acc['kv'], acc['copy']]
                           + [''] * len(KINDS))
            log_f.flush()
            base.log(f'step {step} val loss 4k {v4:.4f} chat 4k {acc}')
            score = v4 - 0.3 * sum(acc.values()) / 3 - a.copy_score_weight * acc['copy']
            if L == 4096 and score < best[0]:
                best = (score, {k: v.detach().clone() for k, v in model.state_dict().items()}, step)
            next_eval += EVAL_EVERY_S
        if last:
            break
        L, res = queue.popleft()
        xb, wb, kb = res.get()
        submit(phase_len(frac + 0.01))
        x = torch.from_numpy(xb).cuda(non_blocking=True)
        w = torch.from_numpy(wb).cuda(non_blocking=True)
        lr = base.lr_at(step, frac, a.peak_lr, 20)
        for g in opt.param_groups:
            g['lr'] = lr
        with torch.autocast('cuda', dtype=torch.bfloat16):
            logits = model(input_ids=x, use_cache=False).logits
        nll = F.cross_entropy(logits[:, :-1].float().reshape(-1, VOCAB), x[:, 1:].reshape(-1), reduction='none')
        plain = np.flatnonzero(kb == KINDS.index('plain'))
        if teacher is not None and len(plain):
            # plain rows: cross-entropy against the teacher's distribution (KL up to a constant), so held-out
            # prose keeps the init model's quality instead of memorising the training text further
            idx = torch.from_numpy(plain).cuda()
            with torch.no_grad(), torch.autocast('cuda', dtype=torch.bfloat16):
                t_logits = teacher(input_ids=x[idx], use_cache=False).logits
            soft = -(t_logits[:, :-1].float().softmax(-1) * logits[idx, :-1].float().log_softmax(-1)).sum(-1)
            keep = torch.ones(x.shape[0], 1, device=w.device)
            keep[idx] = 0.0
            loss = ((nll.view(x.shape[0], -1) * w * keep).sum() + (soft * w[idx]).sum()) / w.sum()
        else:
            loss = (nll * w.reshape(-1)).sum() / w.sum()
        # the weighted loss of each row kind (a copy mechanism shows as the pairs/repeat losses dropping)
        row_loss = ((nll.detach().view(x.shape[0], -1) * w).sum(1) / w.sum(1).clamp_min(1e-6)).cpu().numpy()
        for k in range(len(KINDS)):
            if (kb == k).any():
                kind_window[k].append(float(row_loss[kb == k].mean()))
        base.optimizer_step(model, opt, loss)
        step += 1
        tokens += x.numel()
        window.append(nll.detach().mean())
        wwindow.append(loss.detach())
        if step % 10 == 0:
            tl, wl = torch.stack(window).mean().item(), torch.stack(wwindow).mean().item()
            window, wwindow = [], []
            kl = [round(float(np.mean(v)), 4) if v else '' for v in kind_window]
            kind_window = [[] for _ in KINDS]
            log_w.writerow([step, round(time.time() - t0, 1), tokens, L, f'{lr:.6f}', round(tl, 4), round(wl, 4), '', '', '', ''] + kl)
            log_f.flush()
            if step % 50 == 0:
                base.log(f'step {step} L {L} lr {lr:.2e} loss {tl:.4f} weighted {wl:.4f} by kind {dict(zip(KINDS, kl))} '
                         f'tok/s {tokens / (time.time() - t0):,.0f}')
    train_time = time.time() - t0
    pool.terminate()
    log_f.close()
    base.log(f'trained {step} steps, {tokens / 1e6:.1f} M tokens in {train_time:.0f}s; best score {best[0]:.4f} at step {best[2]}')
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()

    report = {'init': a.init, 'phases': phases, 'mix': {str(k): v for k, v in mix.items()}, 'task_p': a.task_p,
              'repeat_random_share': a.repeat_random_share, 'rope_theta': a.rope_theta, 'distill': a.distill, 'copy_score_weight': a.copy_score_weight, 'peak_lr': a.peak_lr,
              'answer_weight': a.answer_weight, 'copy_weight': a.copy_weight, 'dropout': a.dropout,
              'steps': step, 'train_tokens_seen': tokens, 'train_seconds': round(train_time, 1), 'chosen_step': best[2],
              'chosen_score': best[0], 'stream_tokens': counts}
    for L in (1024, 4096):
        report[f'val_nll_{L}'] = base.heldout_nll(model, streams, 'val', L)
        report[f'test_nll_{L}'] = base.heldout_nll(model, streams, 'test', L)
    base.log('test nll', report['test_nll_1024'], report['test_nll_4096'])
    report['chat'] = {}
    for L in (1024, 2048, 4096):
        for i, t in enumerate(('passkey', 'kv', 'copy')):
            acc = chat_score(model, chat_trials(cm, test_stream, L, t, a.eval_n, 5000 + L + i))
            report['chat'][f'{t}_{L}'] = acc
            base.log(f'chat {t} {L} (test filler, n={a.eval_n}, teacher-forced): {acc:.3f}')
    rng = np.random.default_rng(3)
    report['samples'] = []
    for t in ('passkey', 'kv', 'copy', 'multi'):
        ids, m = cm.conversation(rng, test_stream, 300, t)
        cut = int(np.flatnonzero(np.array(m) == 2.0)[0])  # the prompt up to the first answer
        reply = chat_reply(model, tok, ids[:cut])
        want = tok.decode(ids[cut:cut + 60], skip_special_tokens=False).split('<|im_end|>')[0]
        report['samples'].append({'task': t, 'want': want, 'reply': reply})
        base.log(f'{t}: want {want!r}\n    got {reply!r}')
    for p in ('Fellow-Citizens of the Senate and House of Representatives:', 'Father Brown looked at the stranger and said'):
        text = tok.decode(base.greedy(model, [0] + tok.encode(p, add_special_tokens=False).ids, 40))
        report['samples'].append({'prompt': p, 'greedy': text})
        base.log(f'PROMPT {p!r}: {text!r}')

    out_dir = os.path.join(a.out, 'default-hf')
    base.export(model, tok, out_dir)
    cfg_path = os.path.join(out_dir, 'tokenizer_config.json')
    with open(cfg_path) as f:
        tc = json.load(f)
    tc['chat_template'] = CHAT_TEMPLATE
    with open(cfg_path, 'w') as f:
        json.dump(tc, f, indent=2)
    with open(os.path.join(a.out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    base.log(f'done in {time.time() - t_start:.0f}s')


if __name__ == '__main__':
    main()
