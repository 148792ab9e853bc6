#!/usr/bin/env python3
"""The default model's tokenizer rebuilt from its GGUF, plus the chat control tokens.

The committed models/default.gguf keeps the byte-level BPE vocabulary and merges (tokenizer.ggml.tokens /
merges); this rebuilds the same `tokenizers` tokenizer (ByteLevel pre-tokenizer with the GPT-2 regex, no prefix
space, ByteLevel decoder, BOS put in front) so that a fine-tune needs only the GGUF, and appends the ChatML
control tokens after the last id:

    <|im_start|> = 8192, <|im_end|> = 8193   (special: matched in text only when special tokens are parsed)

usage: chat_vocab.py MODEL.gguf OUT/tokenizer.json   (plain rebuild + chat tokens; prints a round-trip check)
"""
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

from gguf_init import read_llama_gguf

IM_START, IM_END = '<|im_start|>', '<|im_end|>'
BOS, EOS = '<|bos|>', '<|eos|>'

# ChatML turns; BOS first, since the runtime adds nothing to a rendered template.
CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tokenizer_from_meta(meta, chat=True):
    tokens = meta['tokenizer.ggml.tokens']
    types = meta['tokenizer.ggml.token_type']
    assert meta['tokenizer.ggml.model'] == 'gpt2', meta['tokenizer.ggml.model']
    if tokens[-2:] == [IM_START, IM_END]:  # a chat model's GGUF already holds them: rebuild the base vocabulary
        tokens = tokens[:-2]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(' ')) for m in meta['tokenizer.ggml.merges']]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = [BOS, EOS] + ([IM_START, IM_END] if chat else [])
    # BOS and EOS are ids 0 and 1 in the GGUF; add_special_tokens keeps an existing id for a known text
    tok.add_special_tokens([BOS, EOS])
    tok.post_processor = processors.TemplateProcessing(single=f'{BOS} $A', special_tokens=[(BOS, 0)])
    if chat:
        tok.add_special_tokens([IM_START, IM_END])
    for i, t in enumerate(specials):
        want = i if i < 2 else len(tokens) + i - 2
        assert tok.token_to_id(t) == want, (t, tok.token_to_id(t), want)
    return tok


def main():
    meta, _ = read_llama_gguf(sys.argv[1])
    tok = tokenizer_from_meta(meta)
    text = 'Fellow-Citizens of the Senate:\n\n  The pass key is 68231. <|im_start|>user\nHi<|im_end|>\n'
    enc = tok.encode(text)
    print(len(enc.ids), enc.ids[:12], enc.ids[-8:], repr(tok.decode(enc.ids, skip_special_tokens=False)))
    assert tok.get_vocab_size() == 8194, tok.get_vocab_size()
    tok.save(sys.argv[2])


if __name__ == '__main__':
    main()
