"""Reads a Llama GGUF written by the project's converter (F32/F16 norms, Q8_0/F16/F32 matrices) back into a Hugging
Face state dict, so a fine-tune can start from the committed models/default.gguf without shipping the float16
export to the accelerator. Q8_0 rounding (about 0.4% of a block's maximum) is far below what a fine-tune moves.

GGUF facts used (ggml docs): header magic 'GGUF', u32 version, u64 tensor count, u64 metadata count; metadata
values typed (uint8..float64, bool, string = u64 length + bytes, array = u32 type + u64 count + items); tensor
infos name, u32 n_dims, u64 dims (ne[0] fastest), u32 type, u64 offset from the aligned data start;
general.alignment (default 32). Q8_0 block: f16 scale + 32 int8. Q/K rows are stored permuted per head
(pairs (2i, 2i+1) instead of HF's halves (i, i + d/2)); this undoes it.
"""
import struct

import numpy as np

_SCALAR = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
_F32, _F16, _Q8_0 = 0, 1, 8
_HF = {'attn_q': 'self_attn.q_proj', 'attn_k': 'self_attn.k_proj', 'attn_v': 'self_attn.v_proj',
       'attn_output': 'self_attn.o_proj', 'ffn_gate': 'mlp.gate_proj', 'ffn_up': 'mlp.up_proj',
       'ffn_down': 'mlp.down_proj', 'attn_norm': 'input_layernorm', 'ffn_norm': 'post_attention_layernorm'}


class _Reader:
    def __init__(self, buf):
        self.b, self.o = buf, 0

    def take(self, fmt):
        v = struct.unpack_from('<' + fmt, self.b, self.o)
        self.o += struct.calcsize('<' + fmt)
        return v[0]

    def string(self):
        n = self.take('Q')
        s = self.b[self.o:self.o + n].decode('utf-8')
        self.o += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take('I'), self.take('Q')
            return [self.value(et) for _ in range(n)]
        return self.take(_SCALAR[t])


def _unpermute(w, n_head):
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)


def read_llama_gguf(path):
    """Returns (metadata dict, {HF tensor name: float32 numpy array})."""
    buf = open(path, 'rb').read()
    r = _Reader(buf)
    assert buf[:4] == b'GGUF', f'{path}: not a GGUF file'
    r.o = 4
    r.take('I')
    n_tensors, n_kv = r.take('Q'), r.take('Q')
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take('I'))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take('Q') for _ in range(r.take('I'))]
        infos.append((name, dims, r.take('I'), r.take('Q')))
    align = meta.get('general.alignment', 32)
    base = (r.o + align - 1) // align * align
    n_head, n_kv_head = meta['llama.attention.head_count'], meta['llama.attention.head_count_kv']
    out = {}
    for name, dims, t, off in infos:
        n = int(np.prod(dims))
        at = base + off
        if t == _F32:
            a = np.frombuffer(buf, np.float32, n, at)
        elif t == _F16:
            a = np.frombuffer(buf, np.float16, n, at).astype(np.float32)
        elif t == _Q8_0:
            blocks = np.frombuffer(buf, np.uint8, n // 32 * 34, at).reshape(-1, 34)
            d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
            a = (blocks[:, 2:].view(np.int8).astype(np.float32) * d).reshape(-1)
        else:
            raise ValueError(f'{path}: tensor {name} has ggml type {t}, not F32/F16/Q8_0')
        a = a.reshape(list(reversed(dims))).astype(np.float32)
        parts = name.split('.')
        if parts[0] == 'blk':
            kind = parts[2]
            if kind == 'attn_q':
                a = _unpermute(a, n_head)
            elif kind == 'attn_k':
                a = _unpermute(a, n_kv_head)
            out[f'model.layers.{parts[1]}.{_HF[kind]}.weight'] = a
        elif name == 'token_embd.weight':
            out['model.embed_tokens.weight'] = a
        elif name == 'output_norm.weight':
            out['model.norm.weight'] = a
        elif name == 'output.weight':
            out['lm_head.weight'] = a
        else:
            raise ValueError(f'{path}: unexpected tensor {name}')
    return meta, out
