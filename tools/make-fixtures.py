#!/usr/bin/env python3
"""Make the Hugging Face reference fixtures in tests/fixtures/<model>/.

Each model directory gets config.json, safetensors weights as save_pretrained writes them, the shared
byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json), logits.f32 and reference.json.

Nothing is downloaded: the tokenizer is trained here on a public-domain text given with --corpus, and the
models are random. Deterministic: fixed seeds, CPU float32 reference, deterministic torch algorithms.
Random models give near-ties between their top logits; so for each model seeds are tried in a fixed order
and the first whose greedy path keeps top-1 minus top-2 above --min-gap at every step is kept.

Usage (see tests/fixtures/README.md for the exact command used):
  python3 tools/make-fixtures.py --corpus .device-in/austen-emma.txt --out tests/fixtures
"""
import argparse
import copy
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402

transformers.utils.logging.disable_progress_bar()

VOCAB = 512
BOS, EOS = "<s>", "</s>"  # ids 0 and 1: the trainer puts special tokens first, in this order
N_NEW = 32
MIN_PROMPT = 64  # tokens, BOS not counted
PROMPT_START = "Emma Woodhouse, handsome, clever, and rich"
MAX_SEED_TRIES = 400

# Per model: storage dtype, shard size, architecture, and how the random init is shaped.
# init_std: normal std of every projection and the embedding. final_norm: uniform range of the final
# RMSNorm weight, which sets the logit scale (logit std ~ init_std * sqrt(hidden) * final_norm).
# Layer RMSNorm weights are uniform in [0.5, 1.5] so a runtime that ignores them fails.
MODELS = [
    {
        "name": "llama-gqa", "storage": "bfloat16", "max_shard_size": "2MB", "base_seed": 1000,
        "init_std": 0.1, "final_norm": (4.0, 6.0),
        "config": {
            "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
            "head_dim": 64, "intermediate_size": 512, "max_position_embeddings": 2048,
            "tie_word_embeddings": False, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
        },
    },
    {
        "name": "llama-mha-tied", "storage": "float16", "max_shard_size": "1GB", "base_seed": 2000,
        "init_std": 0.1, "final_norm": (5.5, 8.5),
        "config": {
            "hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 2, "num_key_value_heads": 2,
            "head_dim": 64, "intermediate_size": 256, "max_position_embeddings": 2048,
            "tie_word_embeddings": True, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None,
        },
    },
    {
        "name": "llama-mqa-f32", "storage": "float32", "max_shard_size": "1GB", "base_seed": 3000,
        "init_std": 0.1, "final_norm": (5.5, 8.5),
        "config": {
            "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
            "head_dim": 32, "intermediate_size": 320, "max_position_embeddings": 2048,
            "tie_word_embeddings": False, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
            "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        },
    },
]


def train_tokenizer(text):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=[BOS, EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False)
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    # BOS before every sequence, as Llama tokenizers do; no EOS.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, tok.token_to_id(BOS))])
    return tok


def save_tokenizer(text, out_dir):
    tok = train_tokenizer(text)
    if tok.to_str() != train_tokenizer(text).to_str():
        sys.exit("tokenizer training is not deterministic")
    if tok.get_vocab_size() != VOCAB or tok.token_to_id(BOS) != 0 or tok.token_to_id(EOS) != 1:
        sys.exit(f"unexpected tokenizer: vocab {tok.get_vocab_size()}, BOS {tok.token_to_id(BOS)}, EOS {tok.token_to_id(EOS)}")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS)
    fast.save_pretrained(out_dir)
    # transformers 5 names its own class here; the older name loads in transformers 4 and 5 alike.
    cfg_path = os.path.join(out_dir, "tokenizer_config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    return AutoTokenizer.from_pretrained(out_dir)


def pick_prompt(text, hf_tok):
    """Whole sentences of the corpus, from PROMPT_START on, until there are MIN_PROMPT tokens."""
    flat = re.sub(r"\s+", " ", text)
    start = flat.index(PROMPT_START)
    for m in re.finditer(r"[.!?](?= )", flat[start:]):
        prompt = flat[start:start + m.end()]
        if len(hf_tok(prompt, add_special_tokens=False).input_ids) >= MIN_PROMPT:
            return prompt
    sys.exit("corpus too short for a prompt")


def expected_inv_freq(spec):
    """RoPE inverse frequencies computed independently of transformers, to check the config took effect."""
    c = spec["config"]
    d = c["head_dim"]
    inv = 1.0 / c["rope_theta"] ** (np.arange(0, d, 2, dtype=np.float64) / d)
    s = c["rope_scaling"]
    bands = None
    if s and s["rope_type"] == "linear":
        inv = inv / s["factor"]
    elif s and s["rope_type"] == "llama3":
        # Wavelengths shorter than orig/high_freq_factor keep their frequency, longer than orig/low_freq_factor
        # are divided by factor, and the band between blends the two linearly in orig/wavelength.
        orig, lo, hi, f = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
        wl = 2 * math.pi / inv
        smooth = np.clip((orig / wl - lo) / (hi - lo), 0.0, 1.0)
        inv = np.where(wl < orig / hi, inv, np.where(wl > orig / lo, inv / f, (1 - smooth) * inv / f + smooth * inv))
        bands = {"kept": int((wl < orig / hi).sum()), "blended": int(((wl >= orig / hi) & (wl <= orig / lo)).sum()),
                 "divided": int((wl > orig / lo).sum())}
    return inv, bands


def make_config(spec):
    c = copy.deepcopy(spec["config"])  # transformers adds keys to the rope dict it is given
    return LlamaConfig(vocab_size=VOCAB, bos_token_id=0, eos_token_id=1, pad_token_id=None,
                       hidden_act="silu", attention_bias=False, mlp_bias=False,
                       initializer_range=spec["init_std"], **c)


def legacy_config_json(path, spec):
    """Write rope settings as rope_theta + rope_scaling, the layout of Llama checkpoints on the Hub.
    transformers 5 saves them as rope_parameters instead; it reads both."""
    with open(path) as f:
        cj = json.load(f)
    cj.pop("rope_parameters", None)
    cj["rope_theta"] = spec["config"]["rope_theta"]
    cj["rope_scaling"] = spec["config"]["rope_scaling"]
    with open(path, "w") as f:
        json.dump(cj, f, indent=2, sort_keys=True)
        f.write("\n")


def init_and_save(spec, seed, out_dir):
    torch.manual_seed(seed)
    model = LlamaForCausalLM(make_config(spec))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight"):
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5, generator=g))
        model.model.norm.weight.copy_(torch.empty_like(model.model.norm.weight).uniform_(*spec["final_norm"], generator=g))
    model.to(getattr(torch, spec["storage"]))
    model.save_pretrained(out_dir, max_shard_size=spec["max_shard_size"])
    legacy_config_json(os.path.join(out_dir, "config.json"), spec)


def load_f32(model_dir):
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def top2_gap(row):
    v = torch.topk(row, 2).values
    return float(v[0] - v[1])


def evaluate(model, prompt_ids):
    """Prompt logits, greedy continuation, and the logits along it from one full (cache-free) forward."""
    ids = torch.tensor([prompt_ids])
    n = len(prompt_ids)
    with torch.no_grad():
        prompt_logits = model(ids).logits[0]
        gen = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, num_beams=1,
                             max_new_tokens=N_NEW, pad_token_id=1, eos_token_id=1,
                             return_dict_in_generate=True, output_logits=True)
        new = gen.sequences[0, n:].tolist()
        full = model(gen.sequences[:, :-1]).logits[0]
    path = full[n - 1:]  # logits that chose each new token
    step_logits = torch.stack([s[0] for s in gen.logits])
    return {
        "prompt_logits": prompt_logits, "new": new,
        "gaps": [top2_gap(r) for r in path],
        "argmax_path": path.argmax(-1).tolist(),
        "prompt_gaps": [top2_gap(r) for r in prompt_logits],
        "cache_vs_full": float((step_logits - path[:len(new)]).abs().max()) if len(new) == N_NEW else None,
        "prompt_vs_full": float((prompt_logits - full[:n]).abs().max()),
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def tensor_list(model_dir):
    out = {}
    for fn in sorted(os.listdir(model_dir)):
        if fn.endswith(".safetensors"):
            with safetensors.safe_open(os.path.join(model_dir, fn), "pt") as f:
                for k in f.keys():
                    sl = f.get_slice(k)
                    out[k] = {"file": fn, "dtype": sl.get_dtype(), "shape": list(sl.get_shape())}
    return dict(sorted(out.items()))


def make_model(spec, out_root, tok_dir, hf_tok, prompt, min_gap, command):
    name = spec["name"]
    ids_bos = hf_tok(prompt).input_ids
    ids_plain = hf_tok(prompt, add_special_tokens=False).input_ids
    if ids_bos != [0] + ids_plain:
        sys.exit(f"{name}: tokenizer did not add exactly BOS: {ids_bos[:4]} vs {ids_plain[:4]}")
    want_inv, bands = expected_inv_freq(spec)
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(MAX_SEED_TRIES):
            seed = spec["base_seed"] + attempt
            shutil.rmtree(tmp)
            init_and_save(spec, seed, tmp)
            model = load_f32(tmp)
            r = evaluate(model, ids_bos)
            if len(r["new"]) == N_NEW and min(r["gaps"]) > min_gap:
                break
        else:
            sys.exit(f"{name}: no seed in {MAX_SEED_TRIES} tries gave a greedy gap > {min_gap}")
        out_dir = os.path.join(out_root, name)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        shutil.copytree(tmp, out_dir)
    for fn in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, fn), out_dir)

    # Checks: the reloaded model is what the spec says, and generate() agrees with plain argmax.
    inv = model.model.rotary_emb.inv_freq.double().numpy()
    rope_err = float(np.abs(inv / want_inv - 1).max())
    if rope_err > 1e-6 or model.model.rotary_emb.attention_scaling != 1.0:
        sys.exit(f"{name}: rope inv_freq differs from the expected one (relative {rope_err})")
    if r["argmax_path"] != r["new"]:
        sys.exit(f"{name}: generate() disagrees with argmax of the full forward")
    tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    if tied != spec["config"]["tie_word_embeddings"]:
        sys.exit(f"{name}: tied output is {tied}, expected {spec['config']['tie_word_embeddings']}")
    tensors = tensor_list(out_dir)
    shards = sorted(fn for fn in os.listdir(out_dir) if fn.endswith(".safetensors"))
    if name == "llama-gqa" and (len(shards) < 2 or not os.path.exists(os.path.join(out_dir, "model.safetensors.index.json"))):
        sys.exit(f"{name}: expected 2+ shards with an index, got {shards}")

    logits = r["prompt_logits"].numpy().astype("<f4")
    logits.tofile(os.path.join(out_dir, "logits.f32"))
    gaps = r["gaps"]
    ref = {
        "model": name,
        "architecture": "LlamaForCausalLM",
        "storage_dtype": spec["storage"],
        "reference": "float32 on CPU, weights loaded back from these files (from_pretrained, dtype=float32, attn_implementation=eager), eval mode",
        "seed": seed,
        "seed_attempts": attempt + 1,
        "init": {"projection_and_embedding_std": spec["init_std"], "layer_norm_weight_uniform": [0.5, 1.5],
                 "final_norm_weight_uniform": list(spec["final_norm"])},
        "tied_output": tied,
        "tensors": tensors,
        "files": {fn: {"bytes": os.path.getsize(os.path.join(out_dir, fn)), "sha256": sha256(os.path.join(out_dir, fn))}
                  for fn in sorted(os.listdir(out_dir))},
        "tokenizer": {"bos": {"token": BOS, "id": 0}, "eos": {"token": EOS, "id": 1}, "vocab_size": VOCAB,
                      "adds_bos": True, "adds_eos": False},
        "prompt": {"text": prompt, "ids_with_bos": ids_bos, "ids_without_bos": ids_plain,
                   "n_with_bos": len(ids_bos), "n_without_bos": len(ids_plain)},
        "logits": {"file": "logits.f32", "dtype": "float32", "byte_order": "little", "shape": list(logits.shape),
                   "input": "prompt.ids_with_bos", "row": "position", "first8_position0": logits[0, :8].tolist(),
                   "argmax": logits.argmax(-1).tolist()},
        "greedy": {"n_new": N_NEW, "after": "prompt.ids_with_bos", "ids": r["new"],
                   "tokens": hf_tok.convert_ids_to_tokens(r["new"]), "text": hf_tok.decode(r["new"]),
                   "top1_top2_gaps": gaps, "min_gap": min(gaps), "min_gap_step": gaps.index(min(gaps)),
                   "min_gap_required": min_gap},
        "prompt_positions_min_gap": min(r["prompt_gaps"]),
        "checks": {"generate_kv_cache_vs_full_forward_max_abs": r["cache_vs_full"],
                   "prompt_forward_vs_full_forward_max_abs": r["prompt_vs_full"],
                   "rope_inv_freq_max_rel_error_vs_own_formula": rope_err},
        "rope": {"theta": spec["config"]["rope_theta"], "scaling": spec["config"]["rope_scaling"],
                 "inv_freq": [float(x) for x in inv], "llama3_bands": bands},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "command": command,
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"{name}: seed {seed} ({attempt + 1} tries), prompt {len(ids_bos)} tokens with BOS, "
          f"min greedy gap {min(gaps):.4f} at step {gaps.index(min(gaps))}, prompt min gap {min(r['prompt_gaps']):.4f}, "
          f"kv-cache vs full {r['cache_vs_full']:.2e}, logit std {float(logits.std()):.2f}")
    print(f"  logits[0,:8] = {[round(float(x), 6) for x in logits[0, :8]]}")
    print(f"  greedy ids = {r['new']}")
    print(f"  greedy text = {hf_tok.decode(r['new'])!r}")
    for fn in sorted(os.listdir(out_dir)):
        print(f"  {fn:40s} {os.path.getsize(os.path.join(out_dir, fn)):>9d} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="public-domain training text (austen-emma.txt)")
    ap.add_argument("--out", required=True, help="fixtures root, e.g. tests/fixtures")
    ap.add_argument("--min-gap", type=float, default=0.1, help="smallest top-1/top-2 logit gap kept on the greedy path")
    args = ap.parse_args()
    command = "python3 tools/make-fixtures.py " + " ".join(sys.argv[1:])

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(4)
    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tok_dir:
        hf_tok = save_tokenizer(text, tok_dir)
        prompt = pick_prompt(text, hf_tok)
        for spec in MODELS:
            make_model(spec, args.out, tok_dir, hf_tok, prompt, args.min_gap, command)
    print(f"versions: torch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main()
