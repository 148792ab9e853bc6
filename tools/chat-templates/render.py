#!/usr/bin/env python3
"""Render the chat-template fixtures with Hugging Face transformers.

Reads tests/fixtures/chat-templates/conversations.json and the <name>.jinja files beside it, renders every
(template, conversation) pair that the template entry lists with

    tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...,
                                  tools=..., **template_extras, **conversation_extras)

on a tokenizer whose chat_template, bos_token and eos_token are the model's, and writes expected.json:

    { "<template>/<conversation>": {"text": "..."} | {"error": "...", "error_type": "..."},
      "_meta": {...versions, the variables passed per template, template sha256s...} }

The rendering does not depend on the vocabulary, so by default the tokenizer is a one-token WordLevel
tokenizer built in memory; --tokenizer-json PATH uses a real tokenizer.json instead (the output must be
the same). Each pair is rendered twice, the second time with strftime_now replaced by a function that
returns a different fixed date, and the script fails if the two differ: a fixture must not depend on the
day it was made (pass the date as an extra variable instead, as done for Llama 3.x's date_string).

Usage (see tools/chat-templates/README.md):
  python3 tools/chat-templates/render.py                 # write expected.json
  python3 tools/chat-templates/render.py --check         # compare with the stored expected.json
"""
import argparse
import hashlib
import json
import os
import platform
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import jinja2  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import PreTrainedTokenizerFast  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "fixtures", "chat-templates"))


def make_tokenizer(tokenizer_json):
    if tokenizer_json:
        return PreTrainedTokenizerFast(tokenizer_file=tokenizer_json)
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=tok)


def fake_strftime_now(fmt):
    # Any template output that reaches this differs from a real-clock render.
    return "FAKE-DATE(" + fmt + ")"


def render_one(tok, conv, extras):
    kwargs = dict(extras)
    if "tools" in conv:
        kwargs["tools"] = conv["tools"]
    try:
        text = tok.apply_chat_template(
            conv["messages"], tokenize=False, add_generation_prompt=conv["add_generation_prompt"], **kwargs
        )
    except jinja2.exceptions.TemplateError as e:  # raise_exception(), undefined values, syntax errors
        return {"error": str(e), "error_type": type(e).__name__}
    if not isinstance(text, str):
        raise TypeError(f"apply_chat_template returned {type(text).__name__}, expected str")
    return {"text": text}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="folder with conversations.json and the .jinja files")
    ap.add_argument("--tokenizer-json", default=None, help="optional tokenizer.json to build the tokenizer from")
    ap.add_argument("--check", action="store_true", help="compare with the stored expected.json, write nothing")
    args = ap.parse_args()

    with open(os.path.join(args.fixtures, "conversations.json"), encoding="utf-8") as f:
        spec = json.load(f)
    conversations = spec["conversations"]

    out = {}
    meta_templates = {}
    n_text = n_error = 0
    for name, t in spec["templates"].items():
        path = os.path.join(args.fixtures, t["file"])
        with open(path, "rb") as f:
            raw = f.read()
        template = raw.decode("utf-8")  # verbatim: no newline translation, no stripping
        tok = make_tokenizer(args.tokenizer_json)
        tok.chat_template = template
        tok.bos_token = t["bos_token"]
        tok.eos_token = t["eos_token"]
        variables = {k: v for k, v in (("bos_token", t["bos_token"]), ("eos_token", t["eos_token"])) if v is not None}
        meta_templates[name] = {
            "file": t["file"],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bytes": len(raw),
            "special_token_variables": variables,
            "extras": t["extras"],
        }
        for cid in t["conversations"]:
            conv = conversations[cid]
            extras = {**t["extras"], **conv.get("extras", {})}
            result = render_one(tok, conv, extras)
            again = render_one(tok, conv, {**extras, "strftime_now": fake_strftime_now})
            if again != result:
                sys.exit(f"{name}/{cid}: output depends on strftime_now (the current date); pass a fixed date")
            out[f"{name}/{cid}"] = result
            if "text" in result:
                n_text += 1
            else:
                n_error += 1

    out["_meta"] = {
        "generator": "tools/chat-templates/render.py",
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
        "call": "tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=conversation.add_generation_prompt, tools=conversation.tools (only where given), **template.extras, **conversation.extras)",
        "context": "transformers renders with messages, add_generation_prompt, tools (None when not given), documents (None), the special-token variables listed per template (bos_token/eos_token; a null one is not passed at all), the extras, and globals raise_exception, strftime_now; environment ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions loopcontrols + generation tag), tojson = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)",
        "counts": {"text": n_text, "error": n_error},
        "templates": meta_templates,
    }

    dest = os.path.join(args.fixtures, "expected.json")
    text = json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    if args.check:
        with open(dest, encoding="utf-8") as f:
            stored = json.load(f)
        stored_meta = stored.pop("_meta", {})
        new_meta = out.pop("_meta")
        bad = sorted(k for k in set(stored) | set(out) if stored.get(k) != out.get(k))
        for k in bad:
            print(f"DIFFERS: {k}\n  stored: {stored.get(k)!r}\n  now:    {out.get(k)!r}")
        for k in ("transformers", "jinja2"):
            if stored_meta.get(k) != new_meta.get(k):
                print(f"note: {k} {stored_meta.get(k)} stored, {new_meta.get(k)} now")
        print(f"{len(out) - len(bad)} passed, {len(bad)} failed")
        sys.exit(1 if bad else 0)
    with open(dest, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {dest}: {n_text} texts, {n_error} errors (transformers {transformers.__version__}, jinja2 {jinja2.__version__})")


if __name__ == "__main__":
    main()
