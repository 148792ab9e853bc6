#!/usr/bin/env python3
"""SparQ Attention (Ribar et al., ICML 2024, Algorithm 1) in plain numpy f64, as an independent check.

check DIR      compares the SparQ outputs dumped by tools/sparq-dump.mjs with this implementation on the same
               cache and queries, and breaks mean-value reallocation down against exact attention; prints a
               Markdown table of per-layer means over (step, KV head): relative errors ||y - y_dense||/||y_dense||
               over the group's heads, alpha (Eq. 6) and the exact softmax mass of the selected rows, the
               distance of the mean V from the exact-attention mean of the unselected rows, and how consistent
               the error is from step to step (||mean error|| / RMS error: 1/sqrt(steps) for independent errors,
               1 for the same error every step).
fixture OUT    writes a small JSON case (random cache, queries, the reference outputs) for the host tests.

GQA follows docs/sparq.md section 3: I1 from |q| summed over the group, a temperature per query head
(Eq. 9), the ranking is the group mean of the scaled approximate logits, one I2 per KV head, and one alpha
per KV head from the softmax of that mean.
The local window is the l = k // 4 positions before the current token plus the current token, beside the
k - l chosen by rank (k + 1 positions in all). Options (docs/sparq.md section 8): `sinks`, the first positions
taken inside the budget; `top_p`, the adaptive budget: up to k_max - l - sinks candidates by rank, of which
the fewest by approximate softmax mass (of the group's mean logits) that bring the selected mass to top_p,
at least k_min - l - sinks of them.
"""
import json
import math
import sys

import numpy as np


def sparq_group(q, K, KT, V, r, k, scale, realloc, sinks=0, top_p=0.0, k_min=0, k_max=0):
    """One KV head: q [g][d]; K, KT (the values step 1 reads), V [S][d]. Returns y [g][d] and details."""
    q, K, KT, V = (np.asarray(x, dtype=np.float64) for x in (q, K, KT, V))
    g, d = q.shape
    S = K.shape[0]
    a = np.abs(q).sum(axis=0)
    I1 = np.sort(np.argsort(-a, kind='stable')[:r])
    cov = np.abs(q[:, I1]).sum(axis=1) / np.abs(q).sum(axis=1)
    tau = np.sqrt(d * cov)                                        # Eq. 9
    z = (q[:, I1] @ KT[:, I1].T) * (scale * math.sqrt(d) / tau)[:, None]  # = q[I1]·K[:, I1] / tau for scale 1/sqrt(d)
    rank = z.mean(axis=0)                                         # the group's mean approximate logits
    shat = np.exp(rank - rank.max())
    shat /= shat.sum()
    l = k // 4
    n = S - l - 1
    fixed = np.concatenate([np.arange(sinks), np.arange(n, S)])
    budget = k_max if top_p > 0 else k
    chosen = sinks + np.argsort(-rank[sinks:n], kind='stable')[:budget - l - sinks]
    if top_p > 0:
        w = shat
        by_mass = chosen[np.argsort(-w[chosen], kind='stable')]
        need = top_p - w[fixed].sum()
        reach = np.cumsum(w[by_mass]) >= need
        keep = 0 if need <= 0 else int(np.argmax(reach)) + 1 if reach.any() else len(by_mass)
        chosen = by_mass[:max(keep, k_min - l - sinks)]
    I2 = np.concatenate([chosen, fixed])
    s = (q @ K[I2].T) * scale
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y_top = p @ V[I2]
    alpha = min(1.0, shat[I2].sum())                              # one alpha for the group
    vbar = V.mean(axis=0)
    y = alpha * y_top + (1 - alpha) * vbar if realloc else y_top
    return y, dict(I2=I2, alpha=alpha, y_top=y_top, vbar=vbar, tau=tau)


def dense_group(q, K, V, scale):
    s = (np.asarray(q, np.float64) @ np.asarray(K, np.float64).T) * scale
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p @ np.asarray(V, np.float64), p


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def check(path):
    meta = json.load(open(f'{path}/meta.json'))
    H, nKV, d, nL = meta['nHeads'], meta['nKVHeads'], meta['headDim'], meta['nLayers']
    g, scale = H // nKV, meta['scale']
    stats = {l: [] for l in range(nL)}
    errs = {l: {} for l in range(nL)}  # (window, KV head) -> per-step error vectors of y_top and of reallocation
    worst = 0.0
    for w, win in enumerate(meta['windows']):
        S_all = win['S']
        for l in range(nL):
            load = lambda name: np.fromfile(f'{path}/w{w}-l{l}-{name}.f32', dtype='<f4')
            K, V, KT = (load(x).reshape(S_all, nKV, d) for x in ('K', 'V', 'KT'))
            qs, ys = load('q').reshape(-1, H, d), load('y').reshape(-1, H, d)
            for t in range(win['steps']):
                S = win['firstStep'] + t + 1
                r, k, sinks, realloc = win['params'][l][t]
                for h in range(nKV):
                    heads = slice(h * g, (h + 1) * g)
                    q = qs[t, heads]
                    y_ref, info = sparq_group(q, K[:S, h], KT[:S, h], V[:S, h], r, k, scale, realloc, sinks)
                    ours = ys[t, heads]
                    worst = max(worst, float(np.abs(ours - y_ref).max()))
                    y_d, p = dense_group(q, K[:S, h], V[:S, h], scale)
                    a_true = p[:, info['I2']].sum(axis=1)              # exact softmax mass on the selected rows
                    rest = 1 - a_true
                    # mean of the unselected V rows weighted by their exact attention: what v̄ stands in for
                    mask = np.ones(S, bool)
                    mask[info['I2']] = False
                    v_rest = (p[:, mask] @ V[:S, h][mask]) / np.maximum(rest, 1e-30)[:, None]
                    a = info['alpha']
                    y_re = a * info['y_top'] + (1 - a) * info['vbar']
                    e = errs[l].setdefault((w, h), ([], []))
                    e[0].append((info['y_top'] - y_d) / np.linalg.norm(y_d))
                    e[1].append((y_re - y_d) / np.linalg.norm(y_d))
                    stats[l].append(dict(
                        ours_vs_ref=rel(ours, y_ref),
                        err_top=rel(info['y_top'], y_d),
                        err_realloc=rel(a * info['y_top'] + (1 - a) * info['vbar'], y_d),
                        err_oracle_alpha=rel(a_true[:, None] * info['y_top'] + rest[:, None] * info['vbar'], y_d),
                        alpha=float(info['alpha']), alpha_true=float(a_true.mean()),
                        vbar_vs_rest=float(np.mean([rel(info['vbar'], v_rest[j]) for j in range(g)])),
                        y_norm=float(np.linalg.norm(y_d, axis=1).mean()), vbar_norm=float(np.linalg.norm(info['vbar'])),
                    ))
    print(f'{len(meta["windows"])} windows x {meta["windows"][0]["steps"]} decode steps, setting {json.dumps(meta["setting"])}, '
          f'reallocation {meta["reallocation"]}; max |ours - reference| = {worst:.2e}\n')
    bias = lambda e: float(np.linalg.norm(np.mean(e, axis=0)) / np.sqrt(np.mean([np.sum(x ** 2) for x in e])))
    for l in range(nL):
        stats[l][0]['bias_top'] = np.mean([bias(v[0]) for v in errs[l].values()])
        stats[l][0]['bias_realloc'] = np.mean([bias(v[1]) for v in errs[l].values()])
    cols = [('ours_vs_ref', 'ours vs reference'), ('err_top', 'error, no reallocation'), ('err_realloc', 'error, reallocation'),
            ('err_oracle_alpha', 'error, reallocation with exact mass'), ('alpha', 'alpha'), ('alpha_true', 'exact mass on I2'),
            ('vbar_vs_rest', 'mean V vs the unselected rows'), ('bias_top', 'error consistency, no reallocation'),
            ('bias_realloc', 'error consistency, reallocation')]
    print('| layer | ' + ' | '.join(c[1] for c in cols) + ' |')
    print('|---' * (len(cols) + 1) + '|')
    for l in range(nL):
        print(f'| {l} | ' + ' | '.join(f'{np.mean([s[c] for s in stats[l] if c in s]):.4f}' for c, _ in cols) + ' |')
    return worst


def fixture(out):
    """A small GQA case (2 KV heads of 4 query heads, d 16, S 200, r 4, k 32) with the reference outputs of
    several settings. Inputs are multiples of 1/32, so they are exact in f32 and short in JSON."""
    rng = np.random.default_rng(17)
    nKV, g, d, S, r, k = 2, 4, 16, 200, 4, 32
    grid = lambda x: np.round(x * 32) / 32
    K = grid(rng.normal(size=(S, nKV, d)) * 1.5)
    V = grid(rng.normal(size=(S, nKV, d)))
    q = grid(rng.normal(size=(nKV * g, d)) * 2)
    case = dict(nHeads=nKV * g, nKVHeads=nKV, headDim=d, S=S, r=r, k=k, K=K.ravel().tolist(), V=V.ravel().tolist(), q=q.ravel().tolist(),
                settings=[dict(reallocation=False), dict(reallocation=True), dict(reallocation=False, sinks=3),
                          dict(reallocation=False, topP=0.6, kMin=0.25, kMax=4), dict(reallocation=True, sinks=2, topP=0.9, kMin=0.25, kMax=4)])
    for st in case['settings']:
        opts = dict(sinks=st.get('sinks', 0), top_p=st.get('topP', 0.0),
                    k_min=math.floor(k * st.get('kMin', 0) + 0.5), k_max=min(S - 2, math.floor(k * st.get('kMax', 0) + 0.5)))
        y = np.concatenate([sparq_group(q[h * g:(h + 1) * g], K[:, h], K[:, h], V[:, h], r, k, 1 / math.sqrt(d), st['reallocation'], **opts)[0]
                            for h in range(nKV)])
        st['y'] = y.ravel().tolist()
    json.dump(case, open(out, 'w'))


if __name__ == '__main__':
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == 'check':
        check(arg)
    elif cmd == 'fixture':
        fixture(arg)
    else:
        sys.exit('usage: sparq_reference.py check DIR | fixture OUT.json')
