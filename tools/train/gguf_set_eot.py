#!/usr/bin/env python3
"""Writes `tokenizer.ggml.eot_token_id` (end of turn) into a GGUF file: the id of the token whose text is given
(default <|im_end|>), so that runtimes stop a chat reply there. The HF -> GGUF converter writes bos/eos ids
only; this adds the one key and keeps everything else byte for byte (the tensor data moves by the size of the
new key, rounded to general.alignment; tensor offsets are relative to the data start and stay as they are).

usage: gguf_set_eot.py IN.gguf OUT.gguf [--token '<|im_end|>']
"""
import argparse
import struct

from gguf_init import _Reader

_U32, _STRING = 4, 8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--token', default='<|im_end|>')
    a = ap.parse_args()
    buf = open(a.src, 'rb').read()
    assert buf[:4] == b'GGUF'
    r = _Reader(buf)
    r.o = 4
    version = r.take('I')
    n_tensors, n_kv = r.take('Q'), r.take('Q')
    kv_start = r.o
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take('I'))
    kv_end = r.o
    for _ in range(n_tensors):
        r.string()
        for _ in range(r.take('I')):
            r.take('Q')
        r.take('I')
        r.take('Q')
    infos_end = r.o
    align = meta.get('general.alignment', 32)
    data_start = (infos_end + align - 1) // align * align
    assert 'tokenizer.ggml.eot_token_id' not in meta, 'already set'
    eot = meta['tokenizer.ggml.tokens'].index(a.token)
    assert meta['tokenizer.ggml.token_type'][eot] == 3, f'{a.token} is not a control token'
    key = b'tokenizer.ggml.eot_token_id'
    entry = struct.pack('<Q', len(key)) + key + struct.pack('<II', _U32, eot)
    head = b'GGUF' + struct.pack('<IQQ', version, n_tensors, n_kv + 1) + buf[kv_start:kv_end] + entry + buf[kv_end:infos_end]
    pad = (-len(head)) % align
    with open(a.dst, 'wb') as f:
        f.write(head + b'\0' * pad + buf[data_start:])
    print(f'{a.dst}: tokenizer.ggml.eot_token_id = {eot} ({a.token})')


if __name__ == '__main__':
    main()
