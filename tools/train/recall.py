"""Synthetic long-range recall rows, built in token space so that every row is exactly the sequence length.

Three kinds, mixed into training (and the pass-key one reused by the sanity check):
  pass key:  <filler> The pass key is 68231. Remember it. <filler> What is the pass key? The pass key is 68231.
  key-value: <filler with 2-6 lines "The value of key amber is 4821." at random depths>
             What is the value of key amber? The value of key amber is 4821.
  repeat:    <filler> A <filler> A <filler>, where A is a 16 to L/2-token span of the stream or (random_share
             of them) of uniformly random tokens: the second copy can only be predicted by copying the first
             (what the Repetition task asks of the model; random spans cannot be recalled from memorised text).
Filler comes from a token stream. Filler pieces that follow an inserted sentence start at a word start (a
token whose text begins with a space or newline), so the row tokenises as the same text would.
"""
import numpy as np

KEY_WORDS = ['amber', 'falcon', 'river', 'copper', 'maple', 'harbor', 'violet', 'granite', 'lantern', 'orchid',
             'thunder', 'meadow', 'silver', 'canyon', 'ember', 'willow', 'saffron', 'glacier', 'pepper', 'cobalt',
             'juniper', 'raven', 'quartz', 'tulip', 'basalt', 'cedar', 'marble', 'oyster', 'pebble', 'sparrow']


def passkey_sentence(key):
    return f' The pass key is {key}. Remember it.'


def passkey_question():
    return ' What is the pass key? The pass key is'


class RecallMaker:
    def __init__(self, tokenizer, bos_id, eos_id):
        self.tok = tokenizer
        self.bos, self.eos = bos_id, eos_id
        vocab = tokenizer.get_vocab()
        starts = np.zeros(len(vocab), dtype=bool)
        for piece, i in vocab.items():
            starts[i] = piece[:1] in ('\u0120', '\u010a')  # byte-level 'space' and 'newline'
        self.word_start = starts
        self.vocab_size = len(vocab)

    def enc(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def _filler(self, rng, stream, n, at_word_start):
        """n tokens of stream, avoiding document boundaries where a few tries allow."""
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        for _ in range(20):
            off = int(rng.integers(0, len(stream) - n - 65))
            if at_word_start:
                ahead = np.flatnonzero(self.word_start[stream[off:off + 64]])
                if len(ahead) == 0:
                    continue
                off += int(ahead[0])
            piece = stream[off:off + n].astype(np.int64)
            if not np.any((piece == self.bos) | (piece == self.eos)):
                return piece
        return piece

    def _assemble(self, rng, stream, length, inserts, tail):
        """BOS + filler with `inserts` (token lists) at sorted random depths + tail, exactly `length` tokens."""
        body = length - 1 - len(tail) - sum(len(x) for x in inserts)
        cuts = np.sort(rng.integers(0, body + 1, size=len(inserts)))
        sizes = np.diff(np.concatenate([[0], cuts, [body]]))
        parts = [np.array([self.bos])]
        for k, n in enumerate(sizes):
            parts.append(self._filler(rng, stream, int(n), at_word_start=k > 0))
            if k < len(inserts):
                parts.append(np.array(inserts[k]))
        parts.append(np.array(tail))
        row = np.concatenate(parts)
        assert len(row) == length, (len(row), length)
        return row, cuts / max(body, 1)

    def passkey_row(self, rng, stream, length, with_answer=True):
        """Returns (row, key text, depth in [0, 1], answer length: the row's last tokens). Without the answer the
        row ends after 'The pass key is'."""
        key = str(int(rng.integers(10000, 100000)))
        answer = self.enc(f' {key}.') + [self.eos] if with_answer else []
        row, depth = self._assemble(rng, stream, length, [self.enc(passkey_sentence(key))],
                                    self.enc(passkey_question()) + answer)
        return row, key, float(depth[0]), len(answer)

    def kv_row(self, rng, stream, length):
        n = int(rng.integers(2, 7))
        words = rng.choice(KEY_WORDS, size=n, replace=False)
        values = [str(int(v)) for v in rng.integers(1000, 10000, size=n)]
        inserts = [self.enc(f' The value of key {w} is {v}.') for w, v in zip(words, values)]
        ask = int(rng.integers(0, n))
        answer = self.enc(f' {values[ask]}.') + [self.eos]
        question = self.enc(f' What is the value of key {words[ask]}? The value of key {words[ask]} is')
        row, _ = self._assemble(rng, stream, length, inserts, question + answer)
        return row, len(answer)

    def repeat_row(self, rng, stream, length, random_share=0.0):
        """(row, start, size): BOS + pre + A + gap + A + rest; the second copy of A sits at row[start:start + size].
        Half the rows put the first copy right after BOS, as the Repetition task does."""
        body = length - 1
        size = int(rng.integers(16, max(17, body // 2)))
        pre = 0 if rng.random() < 0.5 else int(rng.integers(0, min(body // 4, body - 2 * size) + 1))
        gap = int(rng.integers(0, body - pre - 2 * size + 1))
        rest = body - pre - 2 * size - gap
        if rng.random() < random_share:
            span = rng.integers(2, self.vocab_size, size=size).astype(np.int64)
        else:
            span = self._filler(rng, stream, size, at_word_start=True)
        parts = [np.array([self.bos]), self._filler(rng, stream, pre, at_word_start=False), span,
                 self._filler(rng, stream, gap, at_word_start=True), span,
                 self._filler(rng, stream, rest, at_word_start=True)]
        row = np.concatenate(parts)
        assert len(row) == length, (len(row), length)
        return row, 1 + pre + size + gap, size

    def training_row(self, rng, stream, length, repeat_share, answer_weight, copy_weight, random_share=0.0):
        """(row, weights): weights[t] scales the loss of predicting row[t + 1]. A recall row's answer (its last
        tokens) gets answer_weight; a repeat row's second copy, from its second token on, gets copy_weight.
        repeat_share of the rows are repeat rows; of the rest, 60% pass key and 40% key-value."""
        weights = np.ones(length - 1, dtype=np.float32)
        if rng.random() < repeat_share:
            row, start, size = self.repeat_row(rng, stream, length, random_share)
            weights[start:start + size - 1] = copy_weight
            return row, weights
        if rng.random() < 0.6:
            row, _key, _depth, n_answer = self.passkey_row(rng, stream, length)
        else:
            row, n_answer = self.kv_row(rng, stream, length)
        weights[length - 1 - n_answer:] = answer_weight
        return row, weights
