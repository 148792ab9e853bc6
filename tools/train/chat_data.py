"""Synthetic chat rows for the default model, built in token space from a training-split token stream.

A conversation is laid out exactly as the GGUF chat template renders it (chat_vocab.CHAT_TEMPLATE):

    <|bos|><|im_start|>user\\n{passage}\\n\\n{question}<|im_end|>\\n<|im_start|>assistant\\n{answer}<|im_end|>\\n ...

(the passage and question are split by '\\n\\n', '\\n' or, as when a document is pasted on one line, ' ').

Tasks (the passage is 256-3,500 tokens of training text at 4K rows, shorter in short rows):
  passkey  " The pass key is 68231. Remember it." at a random depth; "What is the pass key?" ->
           "The pass key is 68231."
  kv       2-6 lines " The value of key amber is 4821." -> "The value of key amber is 4821."
  entity   1-4 facts " Mara Quint lives in Dunmore." / " ... works as a baker." -> "Mara Quint lives in Dunmore."
  copy     'Repeat the text that starts with "<8 tokens>".' -> those 8 tokens and the passage's next 32-56
           tokens (to a sentence end where one comes); short passages also 'Repeat the passage.' -> all of it
  multi    one of the above, then 1-2 follow-up user turns: another fact of the same passage, "Repeat your
           last answer.", or a copy question
Answers (and their <|im_end|>) get loss weight `answer_weight`; everything else weight 1.

Raw rows for copying (no chat): random-token pairs <|bos|> R1 R1 R2 R2 ... (R of 8-96 uniformly random
tokens; loss weight 0 on the first copy, `copy_weight` on the second) and long-distance repeats of a random
span across filler (recall.RecallMaker.repeat_row with random spans). Plain rows are <|bos|> + stream text.
"""
import numpy as np

from recall import KEY_WORDS

IM_START, IM_END = 8192, 8193
FIRST = ['Mara', 'Tobias', 'Elena', 'Jonah', 'Priya', 'Silas', 'Ada', 'Felix', 'Nora', 'Ivan', 'Lena', 'Oscar',
         'Hazel', 'Rufus', 'Clara', 'Milo', 'Greta', 'Hugo', 'Iris', 'Bruno', 'Della', 'Emil', 'Fiona', 'Gideon']
LAST = ['Quint', 'Harrow', 'Vale', 'Okafor', 'Lindqvist', 'Marsh', 'Pryce', 'Castell', 'Dunmore', 'Renwick',
        'Ashby', 'Torvald', 'Keane', 'Moreau', 'Balogun', 'Fenwick', 'Sato', 'Whitlock', 'Ibarra', 'Novak']
CITIES = ['Dunmore', 'Carvel', 'Ostrava', 'Linden', 'Port Ellis', 'Marrow', 'Kestrel Bay', 'Aldgate', 'Tarsk',
          'Brightwater', 'Velmont', 'Halden', 'Qarim', 'Stonebridge', 'Wexford', 'Rivenford', 'Pella', 'Corran']
JOBS = ['baker', 'pilot', 'carpenter', 'nurse', 'lawyer', 'painter', 'farmer', 'teacher', 'chemist', 'sailor',
        'jeweller', 'surveyor', 'printer', 'miner', 'tailor', 'librarian', 'glassblower', 'clerk']
TASKS = ['passkey', 'kv', 'entity', 'copy', 'multi']
TASK_P = [0.2, 0.2, 0.1, 0.3, 0.2]


class ChatMaker:
    def __init__(self, tok, recall_maker, task_p=TASK_P):
        self.tok = tok
        self.task_p = task_p
        self.rm = recall_maker
        self.V = recall_maker.vocab_size
        self._strip = {}
        self.nl = self.enc('\n')
        self.user = self.enc('user\n')
        self.asst = self.enc('assistant\n')

    def enc(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def lstrip_first(self, ids):
        """The same tokens with the first one's leading space dropped (as text opening a turn is tokenized)."""
        ids = list(ids)
        if not ids:
            return ids
        t = ids[0]
        if t not in self._strip:
            s = self.tok.decode([t])
            self._strip[t] = self.enc(s.lstrip()) if s != s.lstrip() and s.strip() else [t]
        return self._strip[t] + ids[1:]

    def passage(self, rng, stream, n, inserts=()):
        """About n tokens of stream text that start and end on word boundaries, with `inserts` (token lists
        starting with a space) at random depths. Returns (tokens, starts of the inserts)."""
        body = max(n - sum(len(x) for x in inserts), len(inserts) + 1)
        cuts = np.sort(rng.integers(0, body + 1, size=len(inserts)))
        sizes = np.diff(np.concatenate([[0], cuts, [body]]))
        out, starts = [], []
        for k, size in enumerate(sizes):
            piece = self.rm._filler(rng, stream, int(size) + 1, at_word_start=True) if size > 0 else np.zeros(0, np.int64)
            if len(piece):
                ws = np.flatnonzero(self.rm.word_start[piece])
                end = int(ws[-1]) if len(ws) and ws[-1] > 0 else len(piece)  # stop before the last word's start
                out.extend(piece[:end].tolist())
            if k < len(inserts):
                starts.append(len(out))
                out.extend(inserts[k])
        first = self.lstrip_first(out[:1])
        shift = len(first) - 1
        out = first + out[1:]
        return out, [s + shift if s > 0 else s for s in starts]

    # --- one conversation: list of (user tokens, answer tokens) -------------------------------------------
    def _facts(self, rng, kind, n):
        if kind == 'passkey':
            key = str(int(rng.integers(10000, 100000)))
            return [(f' The pass key is {key}. Remember it.', 'What is the pass key?', f'The pass key is {key}.')]
        if kind == 'kv':
            words = rng.choice(KEY_WORDS, size=n, replace=False)
            vals = [str(int(v)) for v in rng.integers(1000, 10000, size=n)]
            return [(f' The value of key {w} is {v}.', f'What is the value of key {w}?', f'The value of key {w} is {v}.')
                    for w, v in zip(words, vals)]
        firsts = rng.choice(FIRST, size=n, replace=False)
        out = []
        for f in firsts:
            name = f'{f} {rng.choice(LAST)}'
            if rng.random() < 0.5:
                c = rng.choice(CITIES)
                out.append((f' {name} lives in {c}.', f'Where does {name} live?', f'{name} lives in {c}.'))
            else:
                j = rng.choice(JOBS)
                art = 'an' if j[0] in 'aeiou' else 'a'
                out.append((f' {name} works as {art} {j}.', f'What does {name} do?', f'{name} works as {art} {j}.'))
        return out

    def _copy_qa(self, rng, doc):
        """A copy question on `doc` (tokens): the quote is 6-12 tokens from a word start to a word end; the
        answer is the quote and the passage's next 32 or more tokens, cut after the first sentence end past
        those 32 (at most 80 tokens in all)."""
        ws = np.flatnonzero(self.rm.word_start[np.array(doc[:max(1, len(doc) - 80)], dtype=np.int64)])
        if len(ws) == 0:
            return None
        s = int(rng.choice(ws))
        span = doc[s:s + 80]
        q = next((i for i in range(6, 13) if i < len(span) and self.rm.word_start[span[i]]), 8)
        cut = len(span)
        for i in range(q + 32, len(span)):
            if self.tok.decode([span[i - 1]]).rstrip().endswith(('.', '?', '!')):
                cut = i
                break
        quote = self.tok.decode(span[:q]).strip()
        if not quote or '"' in quote or '\n' in quote or cut < q + 32:
            return None
        self.last_quote_len = len(self.lstrip_first(span[:q]))  # the answer's first tokens are the quote
        return f'Repeat the text that starts with "{quote}".', self.lstrip_first(span[:cut])

    def conversation(self, rng, stream, doc_len, task=None):
        """(tokens, weights-per-token-as-target) of one conversation, BOS first."""
        task = task or TASKS[rng.choice(len(TASKS), p=self.task_p)]
        turns = []  # (user question text, answer tokens)
        if task == 'copy' or (task == 'multi' and rng.random() < 0.3):
            doc, _ = self.passage(rng, stream, doc_len)
            if len(doc) <= 160 and rng.random() < 0.5:
                turns.append(('Repeat the passage.', list(doc)))
            else:
                qa = self._copy_qa(rng, doc)
                if qa is None:
                    return self.conversation(rng, stream, doc_len, 'passkey')
                turns.append(qa)
        else:
            kind = task if task != 'multi' else ['passkey', 'kv', 'entity'][rng.integers(3)]
            n = 1 if kind == 'passkey' else int(rng.integers(2 if task == 'multi' else 1, 7))
            facts = self._facts(rng, kind, n)
            if task == 'multi' and kind != 'passkey' and rng.random() < 0.5:
                facts += self._facts(rng, 'passkey', 1)
            order = rng.permutation(len(facts))
            doc, _ = self.passage(rng, stream, doc_len, [self.enc(facts[i][0]) for i in order])
            asked = rng.permutation(len(facts))
            turns.append((facts[asked[0]][1], self.enc(facts[asked[0]][2])))
            if task == 'multi':
                for k in range(1, 1 + int(rng.integers(1, 3))):
                    r = rng.random()
                    if r < 0.5 and k < len(facts):
                        turns.append(('And ' + facts[asked[k]][1][0].lower() + facts[asked[k]][1][1:], self.enc(facts[asked[k]][2])))
                    elif r < 0.75:
                        turns.append(('Repeat your last answer.', list(turns[-1][1])))
                    else:
                        qa = self._copy_qa(rng, doc)
                        if qa is not None:
                            turns.append(qa)
        toks, marks = [0], [1.0]  # marks[i]: 2 for answer tokens (and their <|im_end|>), else 1
        for i, (q, ans) in enumerate(turns):
            sep = ('\n\n', '\n', ' ')[int(rng.choice(3, p=[0.6, 0.1, 0.3]))]  # ' ': a document pasted on one line
            user_text = self.enc(sep + q) if i == 0 else self.enc(q)
            user = self.user + (list(doc) if i == 0 else []) + user_text
            seg_u = [IM_START] + user + [IM_END] + self.nl + [IM_START] + self.asst
            toks += seg_u + list(ans) + [IM_END] + self.nl
            marks += [1.0] * len(seg_u) + [2.0] * (len(ans) + 1) + [1.0] * len(self.nl)
        return toks, marks

    def chat_row(self, rng, stream, L, answer_weight):
        """Conversations packed into one row of L tokens; the rest is plain text. weights[t] scales the loss of
        predicting row[t + 1]."""
        toks, marks = [], []
        lo, hi = min(256, L // 4), min(3500, L - 300)
        while True:
            room = L - len(toks)
            if room < 200:
                break
            n = int(rng.integers(lo, max(lo + 1, min(hi, room - 150))))
            t, m = self.conversation(rng, stream, n)
            if len(t) > room:
                if not toks:
                    continue
                break
            toks += t
            marks += m
        fill = L - len(toks)
        if fill > 0:
            toks += [0] + self.rm._filler(rng, stream, fill - 1, at_word_start=False).tolist()
            marks += [1.0] * fill
        w = np.array(marks[1:L], dtype=np.float32)  # the weight of predicting row[t + 1] is token t + 1's mark
        w[w == 2.0] = answer_weight
        return np.array(toks[:L], dtype=np.int64), w

    def random_pairs_row(self, rng, L, copy_weight, lo=8, hi=96):
        toks, marks = [0], [0.0]
        while len(toks) < L:
            n = int(rng.integers(lo, hi + 1))
            r = rng.integers(2, self.V, size=n).tolist()
            toks += r + r
            marks += [0.0] * (n + 1) + [copy_weight] * (n - 1)  # only the second copy (after its first token) is predictable
        return np.array(toks[:L], dtype=np.int64), np.array(marks[1:L], dtype=np.float32)

    def plain_row(self, rng, stream, L):
        off = int(rng.integers(0, len(stream) - L))
        return np.concatenate([[0], stream[off:off + L - 1]]).astype(np.int64), np.ones(L - 1, np.float32)
