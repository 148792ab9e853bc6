// Rotary position embedding, in place on x laid out [token][head][headDim] f32.
//
// Token t sits at position p = pos0 + t. Pair i (i < rotDim/2) turns by θ = f32(f32(p) · invFreq[i]): the
// product is rounded to f32 exactly as HF forms it (position_ids · inv_freq in f32); cos θ and sin θ are then
// taken in f64 (musl-accurate, with full range reduction, so large angles at long positions stay right) and
// rounded to f32, which is the correctly rounded value of the f32 cos/sin HF evaluates. Each (token, pair
// group) computes its cos/sin once, keeps them in registers and applies them to every head; no scratch memory.
// Components rotDim..headDim-1 are left untouched (partial rotary).
//
// neox = 0: pairs (2i, 2i+1), the interleaved GGUF llama layout.
// neox = 1: pairs (i, i + rotDim/2), the HF layout.
// Both compute (a, b) -> (a·c - b·s, b·c + a·s) with one rounding per product and per sum.

@inline
function cosSin(angle: f32): void {
  NativeMath.sincos(<f64>angle);
}

@inline
function rotatePair(pa: usize, pb: usize, c: f32, s: f32): void {
  const a = load<f32>(pa);
  const b = load<f32>(pb);
  store<f32>(pa, a * c - b * s);
  store<f32>(pb, b * c + a * s);
}

export function rope(x: usize, invFreq: usize, nTokens: i32, nHeads: i32, headDim: i32, rotDim: i32, pos0: i32, neox: i32): void {
  const half = rotDim >> 1;
  const headBytes = <usize>headDim << 2;
  for (let t = 0; t < nTokens; t++) {
    const pos = <f32>(pos0 + t);
    const xt = x + <usize>t * <usize>nHeads * headBytes;
    if (neox) {
      // Four pairs per step: lanes i..i+3 against lanes half+i..half+i+3.
      const hiOff = <usize>half << 2;
      let i = 0;
      for (; i + 4 <= half; i += 4) {
        let cv = f32x4.splat(0), sv = f32x4.splat(0);
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2)));
        cv = f32x4.replace_lane(cv, 0, <f32>NativeMath.sincos_cos); sv = f32x4.replace_lane(sv, 0, <f32>NativeMath.sincos_sin);
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2), 4));
        cv = f32x4.replace_lane(cv, 1, <f32>NativeMath.sincos_cos); sv = f32x4.replace_lane(sv, 1, <f32>NativeMath.sincos_sin);
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2), 8));
        cv = f32x4.replace_lane(cv, 2, <f32>NativeMath.sincos_cos); sv = f32x4.replace_lane(sv, 2, <f32>NativeMath.sincos_sin);
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2), 12));
        cv = f32x4.replace_lane(cv, 3, <f32>NativeMath.sincos_cos); sv = f32x4.replace_lane(sv, 3, <f32>NativeMath.sincos_sin);
        let p = xt + (<usize>i << 2);
        for (let h = 0; h < nHeads; h++, p += headBytes) {
          const a = v128.load(p);
          const b = v128.load(p + hiOff);
          v128.store(p, f32x4.sub(f32x4.mul(a, cv), f32x4.mul(b, sv)));
          v128.store(p + hiOff, f32x4.add(f32x4.mul(b, cv), f32x4.mul(a, sv)));
        }
      }
      for (; i < half; i++) {
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2)));
        const c = <f32>NativeMath.sincos_cos, s = <f32>NativeMath.sincos_sin;
        let p = xt + (<usize>i << 2);
        for (let h = 0; h < nHeads; h++, p += headBytes) rotatePair(p, p + hiOff, c, s);
      }
    } else {
      // Two pairs per step: v = [a0, b0, a1, b1]; v' = v·[c0, c0, c1, c1] + [b0, a0, b1, a1]·[-s0, s0, -s1, s1].
      let i = 0;
      for (; i + 2 <= half; i += 2) {
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2)));
        const c0 = <f32>NativeMath.sincos_cos, s0 = <f32>NativeMath.sincos_sin;
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2), 4));
        const c1 = <f32>NativeMath.sincos_cos, s1 = <f32>NativeMath.sincos_sin;
        const cv = f32x4(c0, c0, c1, c1);
        const sv = f32x4(-s0, s0, -s1, s1);
        let p = xt + (<usize>i << 3);
        for (let h = 0; h < nHeads; h++, p += headBytes) {
          const v = v128.load(p);
          const w = v128.shuffle<f32>(v, v, 1, 0, 3, 2);
          v128.store(p, f32x4.add(f32x4.mul(v, cv), f32x4.mul(w, sv)));
        }
      }
      if (i < half) {
        cosSin(pos * load<f32>(invFreq + (<usize>i << 2)));
        const c = <f32>NativeMath.sincos_cos, s = <f32>NativeMath.sincos_sin;
        let p = xt + (<usize>i << 3);
        for (let h = 0; h < nHeads; h++, p += headBytes) rotatePair(p, p + 4, c, s);
      }
    }
  }
}
