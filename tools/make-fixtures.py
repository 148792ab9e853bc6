#!/usr/bin/env python3
"""Make the Hugging Face reference fixtures in tests/fixtures/<model>/.

Each model directory gets config.json, safetensors weights as save_pretrained writes them, the shared
byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json), logits.f32 and reference.json.

Nothing is downloaded: the tokenizer is trained here on a public-domain text given with --corpus, and the
models are random. Deterministic: fixed seeds, CPU float32 reference, deterministic torch algorithms.
Random models give near-ties between their top logits; so for each model seeds are tried in a fixed order
and the first whose greedy path keeps top-1 minus top-2 above --min-gap at every step is kept.

Usage (see tests/fixtures/README.md for the exact commands used):
  python3 tools/make-fixtures.py --corpus .device-in/austen-emma.txt --out tests/fixtures
  python3 tools/make-fixtures.py --families all --reuse-tokenizer tests/fixtures/llama-gqa --out tests/fixtures

The second form builds one random model per architecture family (FAMILIES below) with the tokenizer and
prompt of an existing fixture directory, so no corpus is needed and the token ids are the same everywhere.
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


# ---------------------------------------------------------------------------------------------------------
# Architecture families (--families). One small random model per family, with that family's shape features,
# saved in the layout of its Hub checkpoints (legacy rope keys in config.json, as above), plus the same
# reference outputs as the Llama fixtures. Norm weights: every layer norm (and q/k norm) weight is uniform in
# [0.5, 1.5] as the runtime sees it, i.e. minus `norm_offset` for families whose RMSNorm multiplies by 1 + w
# (Gemma); biases are normal with std `bias_std`, so a runtime that drops them fails.
FAMILY_COMMON = {"vocab_size": VOCAB, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": None,
                 "max_position_embeddings": 2048}

FAMILIES = [
    {
        # Qwen2.5-style: q/k/v biases, GQA, tied output, theta 1e6.
        "name": "qwen2", "cls": "Qwen2ForCausalLM", "cfg": "Qwen2Config", "storage": "bfloat16", "base_seed": 4000,
        "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 0.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "intermediate_size": 192, "hidden_act": "silu", "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
                   "use_sliding_window": False},
        "legacy": {"rope_theta": 1000000.0, "rope_scaling": None},
        "rotary": {"head_dim": 32, "partial": 1.0},
    },
    {
        # Qwen3-style: per-head q/k RMSNorm, head_dim larger than hidden/heads, no biases.
        "name": "qwen3", "cls": "Qwen3ForCausalLM", "cfg": "Qwen3Config", "storage": "float16", "base_seed": 5000,
        "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 0.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                   "head_dim": 32, "intermediate_size": 128, "hidden_act": "silu", "rms_norm_eps": 1e-6,
                   "tie_word_embeddings": True, "attention_bias": False, "use_sliding_window": False},
        "legacy": {"rope_theta": 1000000.0, "rope_scaling": None},
        "rotary": {"head_dim": 32, "partial": 1.0},
    },
    {
        # Gemma: RMSNorm with 1 + w, GeGLU (tanh GELU), embeddings scaled by sqrt(hidden), tied output, MQA.
        "name": "gemma", "cls": "GemmaForCausalLM", "cfg": "GemmaConfig", "storage": "bfloat16", "base_seed": 6000,
        "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 1.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "head_dim": 32, "intermediate_size": 128, "hidden_act": "gelu_pytorch_tanh",
                   "hidden_activation": "gelu_pytorch_tanh", "rms_norm_eps": 1e-6, "tie_word_embeddings": True},
        "legacy": {"rope_theta": 10000.0, "rope_scaling": None},
        "rotary": {"head_dim": 32, "partial": 1.0},
    },
    {
        # Gemma 2: + post-attention and post-FFN norms, attention-logit and final-logit soft-capping, sliding
        # window on even layers. The window (24) is shorter than the prompt so it takes effect; the attention
        # cap is 2 (the real models use 50) so that this random model's small scores reach the tanh's bend.
        "name": "gemma2", "cls": "Gemma2ForCausalLM", "cfg": "Gemma2Config", "storage": "float32", "base_seed": 7000,
        "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 1.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "head_dim": 32, "intermediate_size": 128, "hidden_activation": "gelu_pytorch_tanh",
                   "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
                   "query_pre_attn_scalar": 32, "sliding_window": 24, "attn_logit_softcapping": 2.0,
                   "final_logit_softcapping": 30.0,
                   "layer_types": ["sliding_attention", "full_attention"] * 2},
        "legacy": {"rope_theta": 10000.0, "rope_scaling": None},
        "rotary": {"head_dim": 32, "partial": 1.0},
        "windows": [24, None, 24, None],
    },
    {
        # Gemma 3 (text): + q/k RMSNorm (1 + w), five sliding-window layers (local rope base 10000) per global
        # layer (rope base 1e6 with linear scaling 8, as in the 4B+ models), no soft-capping.
        "name": "gemma3", "cls": "Gemma3ForCausalLM", "cfg": "Gemma3TextConfig", "storage": "bfloat16",
        "base_seed": 8000, "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 1.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 6, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "head_dim": 32, "intermediate_size": 128, "hidden_activation": "gelu_pytorch_tanh",
                   "rms_norm_eps": 1e-6, "tie_word_embeddings": True, "query_pre_attn_scalar": 32,
                   "sliding_window": 24, "attn_logit_softcapping": None, "final_logit_softcapping": None,
                   "layer_types": ["sliding_attention"] * 5 + ["full_attention"]},
        "legacy": {"rope_theta": 1000000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0},
                   "rope_local_base_freq": 10000.0, "sliding_window_pattern": 6},
        "rotary": {"head_dim": 32, "partial": 1.0, "local_theta": 10000.0},
        "windows": [24] * 5 + [None],
    },
    {
        # Phi-3-style: fused qkv_proj and gate_up_proj, GQA (as Phi-4-mini), untied output.
        "name": "phi3", "cls": "Phi3ForCausalLM", "cfg": "Phi3Config", "storage": "float16", "base_seed": 9000,
        "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 0.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                   "intermediate_size": 128, "hidden_act": "silu", "rms_norm_eps": 1e-5, "tie_word_embeddings": False,
                   "original_max_position_embeddings": 2048, "sliding_window": None, "partial_rotary_factor": 1.0},
        "legacy": {"rope_theta": 10000.0, "rope_scaling": None},
        "rotary": {"head_dim": 32, "partial": 1.0},
    },
    {
        # Pythia (GPT-NeoX): LayerNorm with bias, parallel residual, rotary on the first quarter of each head
        # (NeoX halves), exact-erf GELU MLP with biases, fused per-head-interleaved query_key_value, untied.
        "name": "gptneox", "cls": "GPTNeoXForCausalLM", "cfg": "GPTNeoXConfig", "storage": "float32",
        "base_seed": 10000, "init_std": 0.1, "final_norm": (8.0, 12.0), "norm_offset": 0.0, "bias_std": 0.1,
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256,
                   "hidden_act": "gelu", "layer_norm_eps": 1e-5, "use_parallel_residual": True,
                   "tie_word_embeddings": False, "attention_bias": True},
        "legacy": {"rotary_pct": 0.25, "rotary_emb_base": 10000},
        "rotary": {"head_dim": 32, "partial": 0.25, "theta_key": "rotary_emb_base"},
    },
]

FINAL_NORMS = ("model.norm.weight", "gpt_neox.final_layer_norm.weight")


def family_theta(spec):
    leg = spec["legacy"]
    return float(leg.get("rope_theta", leg.get("rotary_emb_base", 10000.0)))


def family_expected_inv_freq(spec):
    """{'global': inv_freq, 'local': inv_freq or absent}, computed independently of transformers."""
    r = spec["rotary"]
    dim = int(r["head_dim"] * r["partial"])
    base = lambda theta: 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)  # noqa: E731
    inv = base(family_theta(spec))
    s = spec["legacy"].get("rope_scaling")
    if s and s["rope_type"] == "linear":
        inv = inv / s["factor"]
    out = {"global": inv}
    if "local_theta" in r:
        out["local"] = base(r["local_theta"])
    return out


def family_config(spec):
    cfg_cls = getattr(transformers, spec["cfg"])
    c = copy.deepcopy(spec["config"])
    c.update(copy.deepcopy({k: v for k, v in spec["legacy"].items() if k != "sliding_window_pattern"}))
    return cfg_cls(initializer_range=spec["init_std"], **FAMILY_COMMON, **c)


def family_legacy_config_json(path, spec):
    """Rope settings as the Hub checkpoints of the family write them (see legacy_config_json)."""
    with open(path) as f:
        cj = json.load(f)
    cj.pop("rope_parameters", None)
    if "rotary_pct" in spec["legacy"]:
        cj.pop("partial_rotary_factor", None)
    cj.update(copy.deepcopy(spec["legacy"]))
    cj["tie_word_embeddings"] = spec["config"]["tie_word_embeddings"]
    with open(path, "w") as f:
        json.dump(cj, f, indent=2, sort_keys=True)
        f.write("\n")


def family_init_and_save(spec, seed, out_dir):
    torch.manual_seed(seed)
    model = getattr(transformers, spec["cls"])(family_config(spec))
    g = torch.Generator().manual_seed(seed)
    off = spec["norm_offset"]
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() != 1:
                continue
            if name.endswith(".bias"):
                p.copy_(torch.empty_like(p).normal_(0.0, spec["bias_std"], generator=g))
            elif name in FINAL_NORMS:
                p.copy_(torch.empty_like(p).uniform_(*spec["final_norm"], generator=g) - off)
            elif "norm" in name and name.endswith(".weight"):
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5, generator=g) - off)
    model.to(getattr(torch, spec["storage"]))
    model.save_pretrained(out_dir)
    family_legacy_config_json(os.path.join(out_dir, "config.json"), spec)


def family_load_f32(spec, model_dir):
    cls = getattr(transformers, spec["cls"])
    return cls.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()


def family_checks(spec, model):
    """What the reloaded model does, compared with the spec. Returns (report, problems)."""
    problems = []
    want = family_expected_inv_freq(spec)
    found = {}
    for name, buf in model.named_buffers():
        if name.endswith("inv_freq") and not name.endswith("original_inv_freq"):
            found[name] = buf.double().numpy()
    rope = {}
    for name, inv in found.items():
        errs = {k: float(np.abs(inv / w - 1).max()) for k, w in want.items() if len(w) == len(inv)}
        rope[name] = {"values": [float(x) for x in inv], "max_rel_error_vs": errs}
        if not errs or min(errs.values()) > 1e-6:
            problems.append(f"inv_freq buffer {name} matches none of {list(want)}: {errs}")
    for k in want:
        if not any(v["max_rel_error_vs"].get(k, 1) <= 1e-6 for v in rope.values()):
            problems.append(f"no inv_freq buffer matches the expected {k} frequencies")
    scalings = sorted({float(getattr(m, "attention_scaling")) for m in model.modules() if hasattr(m, "attention_scaling")})
    if any(s != 1.0 for s in scalings):
        problems.append(f"rotary attention_scaling {scalings} (expected 1.0)")
    windows = []
    for m in model.modules():
        if type(m).__name__.endswith("Attention") and hasattr(m, "layer_idx"):
            windows.append(getattr(m, "sliding_window", None))
    if "windows" in spec and windows != spec["windows"]:
        problems.append(f"per-layer sliding windows {windows}, expected {spec['windows']}")
    cfg = model.config
    report = {"rope_buffers": rope, "rotary_attention_scaling": scalings, "layer_sliding_windows": windows,
              "layer_types": getattr(cfg, "layer_types", None),
              "config_rope_parameters": getattr(cfg, "rope_parameters", None)}
    return report, problems


def make_family(spec, out_root, tok_src, hf_tok, src_ref, min_gap, command):
    name = spec["name"]
    prompt = src_ref["prompt"]["text"]
    ids_bos = hf_tok(prompt).input_ids
    if ids_bos != src_ref["prompt"]["ids_with_bos"]:
        raise RuntimeError(f"{name}: the reused tokenizer does not reproduce the reference ids")
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(MAX_SEED_TRIES):
            seed = spec["base_seed"] + attempt
            shutil.rmtree(tmp)
            family_init_and_save(spec, seed, tmp)
            model = family_load_f32(spec, tmp)
            r = evaluate(model, ids_bos)
            if len(r["new"]) == N_NEW and min(r["gaps"]) > min_gap:
                break
        else:
            raise RuntimeError(f"{name}: no seed in {MAX_SEED_TRIES} tries gave a greedy gap > {min_gap}")
        out_dir = os.path.join(out_root, name)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        shutil.copytree(tmp, out_dir)
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_src, fn), out_dir)

    report, problems = family_checks(spec, model)
    if r["argmax_path"] != r["new"]:
        problems.append("generate() disagrees with argmax of the full forward")
    out_emb = model.get_output_embeddings().weight
    tied = out_emb.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    if tied != spec["config"]["tie_word_embeddings"]:
        problems.append(f"tied output is {tied}, expected {spec['config']['tie_word_embeddings']}")
    for p in problems:
        print(f"  CHECK FAILED ({name}): {p}")

    logits = r["prompt_logits"].numpy().astype("<f4")
    logits.tofile(os.path.join(out_dir, "logits.f32"))
    gaps = r["gaps"]
    ref = {
        "model": name,
        "architecture": spec["cls"],
        "storage_dtype": spec["storage"],
        "reference": "float32 on CPU, weights loaded back from these files (from_pretrained, dtype=float32, attn_implementation=eager), eval mode",
        "seed": seed,
        "seed_attempts": attempt + 1,
        "init": {"projection_and_embedding_std": spec["init_std"], "norm_weight_uniform_as_used": [0.5, 1.5],
                 "final_norm_weight_uniform_as_used": list(spec["final_norm"]), "stored_norm_offset": -spec["norm_offset"],
                 "bias_std": spec["bias_std"]},
        "config": spec["config"], "legacy_config_keys": spec["legacy"],
        "tied_output": tied,
        "tensors": tensor_list(out_dir),
        "files": {fn: {"bytes": os.path.getsize(os.path.join(out_dir, fn)), "sha256": sha256(os.path.join(out_dir, fn))}
                  for fn in sorted(os.listdir(out_dir))},
        "tokenizer": {"bos": {"token": BOS, "id": 0}, "eos": {"token": EOS, "id": 1}, "vocab_size": VOCAB,
                      "adds_bos": True, "adds_eos": False, "copied_from": tok_src},
        "prompt": {"text": prompt, "ids_with_bos": ids_bos, "ids_without_bos": ids_bos[1:],
                   "n_with_bos": len(ids_bos), "n_without_bos": len(ids_bos) - 1},
        "logits": {"file": "logits.f32", "dtype": "float32", "byte_order": "little", "shape": list(logits.shape),
                   "input": "prompt.ids_with_bos", "row": "position", "first8_position0": logits[0, :8].tolist(),
                   "argmax": logits.argmax(-1).tolist()},
        "greedy": {"n_new": N_NEW, "after": "prompt.ids_with_bos", "ids": r["new"],
                   "tokens": hf_tok.convert_ids_to_tokens(r["new"]), "text": hf_tok.decode(r["new"]),
                   "top1_top2_gaps": gaps, "min_gap": min(gaps), "min_gap_step": gaps.index(min(gaps)),
                   "min_gap_required": min_gap},
        "prompt_positions_min_gap": min(r["prompt_gaps"]),
        "checks": {"generate_kv_cache_vs_full_forward_max_abs": r["cache_vs_full"],
                   "prompt_forward_vs_full_forward_max_abs": r["prompt_vs_full"], "problems": problems, **report},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "command": command,
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, default=str)
        f.write("\n")
    print(f"{name}: seed {seed} ({attempt + 1} tries), min greedy gap {min(gaps):.4f}, prompt min gap "
          f"{min(r['prompt_gaps']):.4f}, kv-cache vs full {r['cache_vs_full']:.2e}, logit std {float(logits.std()):.2f}, "
          f"windows {report['layer_sliding_windows']}, problems {len(problems)}")
    total = 0
    for fn in sorted(os.listdir(out_dir)):
        total += os.path.getsize(os.path.join(out_dir, fn))
        print(f"  {fn:40s} {os.path.getsize(os.path.join(out_dir, fn)):>9d} bytes")
    print(f"  total {total} bytes")
    return not problems


def make_families(names, out_root, tok_src, min_gap, command):
    with open(os.path.join(tok_src, "reference.json")) as f:
        src_ref = json.load(f)
    with tempfile.TemporaryDirectory() as tok_dir:  # the tokenizer files alone, as in the Llama path
        for fn in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(tok_src, fn), tok_dir)
        hf_tok = AutoTokenizer.from_pretrained(tok_dir)
    specs = [s for s in FAMILIES if names == ["all"] or s["name"] in names]
    if len(specs) != (len(FAMILIES) if names == ["all"] else len(names)):
        sys.exit(f"unknown family in {names}; known: {[s['name'] for s in FAMILIES]}")
    failed = []
    for spec in specs:
        try:
            if not make_family(spec, out_root, tok_src, hf_tok, src_ref, min_gap, command):
                failed.append(spec["name"])
        except Exception:  # one family's failure must not cost the others their fixtures
            import traceback
            traceback.print_exc()
            failed.append(spec["name"])
    print(f"families done; failed or with failed checks: {failed}")
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help="public-domain training text (austen-emma.txt), for the Llama fixtures")
    ap.add_argument("--out", required=True, help="fixtures root, e.g. tests/fixtures")
    ap.add_argument("--min-gap", type=float, default=0.1, help="smallest top-1/top-2 logit gap kept on the greedy path")
    ap.add_argument("--families", help="comma-separated FAMILIES names, or 'all' (needs --reuse-tokenizer)")
    ap.add_argument("--reuse-tokenizer", help="fixture directory whose tokenizer and prompt the families reuse")
    ap.add_argument("--threads", type=int, default=4, help="torch CPU threads")
    args = ap.parse_args()
    command = "python3 tools/make-fixtures.py " + " ".join(sys.argv[1:])
    if bool(args.families) == bool(args.corpus) or bool(args.families) != bool(args.reuse_tokenizer):
        sys.exit("give either --corpus, or --families with --reuse-tokenizer")

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    if args.families:
        failed = make_families(args.families.split(","), args.out, args.reuse_tokenizer, args.min_gap, command)
        print(f"versions: torch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")
        sys.exit(1 if failed else 0)
    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    with tempfile.TemporaryDirectory() as tok_dir:
        hf_tok = save_tokenizer(text, tok_dir)
        prompt = pick_prompt(text, hf_tok)
        for spec in MODELS:
            make_model(spec, args.out, tok_dir, hf_tok, prompt, args.min_gap, command)
    print(f"versions: torch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")

if __name__ == "__main__":
    main()
