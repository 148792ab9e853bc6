// ropeInvFreq against values worked out here in plain f64 from the formulas (HF's float32 tensors round the
// exponent 2i/d to f32, which moves theta^(2i/d) by up to ln(theta)·2^-25 relative: ~4e-7 for theta = 5e5,
// hence the 1e-6 relative tolerance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ropeInvFreq } from '../../dist/model/rope-freqs.js';
import { InvalidArgumentError } from '../../dist/errors.js';

const TOL = 1e-6;

function close(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const rel = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
    assert.ok(rel <= TOL, `${what}[${i}]: got ${got[i]}, want ${want[i]} (relative error ${rel})`);
  }
}

const plain = (rotDim, theta) => Array.from({ length: rotDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / rotDim));

// HF's llama3 rule, written out per frequency in f64.
function llama3(inv, { factor, lowFreqFactor, highFreqFactor, originalContext }) {
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < originalContext / highFreqFactor) return f;
    if (wavelen > originalContext / lowFreqFactor) return f / factor;
    const s = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return ((1 - s) * f) / factor + s * f;
  });
}

test('no scaling: theta^(-2i/d), e.g. 10^-i for theta = 1e4, d = 8', () => {
  close(ropeInvFreq({ rotDim: 8, theta: 10000 }), [1, 0.1, 0.01, 0.001], 'theta 1e4');
  close(ropeInvFreq({ rotDim: 8, theta: 10000, scaling: { kind: 'none' } }), [1, 0.1, 0.01, 0.001], 'kind none');
  close(ropeInvFreq({ rotDim: 6, theta: 500000 }), [1, 1 / 500000 ** (1 / 3), 1 / 500000 ** (2 / 3)], 'theta 5e5, d 6');
  close(ropeInvFreq({ rotDim: 128, theta: 500000 }), plain(128, 500000), 'theta 5e5, d 128');
  close(ropeInvFreq({ rotDim: 2, theta: 10000 }), [1], 'one pair');
});

test('linear scaling divides every frequency by the factor', () => {
  close(ropeInvFreq({ rotDim: 8, theta: 10000, scaling: { kind: 'linear', factor: 4 } }), [0.25, 0.025, 0.0025, 0.00025], 'factor 4');
  close(ropeInvFreq({ rotDim: 64, theta: 10000, scaling: { kind: 'linear', factor: 2.5 } }),
    plain(64, 10000).map((f) => f / 2.5), 'factor 2.5');
});

test('llama3 scaling: short wavelengths kept, long ones divided, the middle band blended', () => {
  // d = 8, theta = 1e4: wavelengths 2π·{1, 10, 100, 1000} = 6.3, 62.8, 628, 6283 against the band edges
  // 1024/4 = 256 and 1024/1 = 1024: two kept, one blended, one divided by 8.
  const sc = { kind: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 1024 };
  const got = ropeInvFreq({ rotDim: 8, theta: 10000, scaling: sc });
  const s = (1024 / (200 * Math.PI) - 1) / 3; // smooth factor of the middle one
  const want = [1, 0.1, (1 - s) * 0.01 / 8 + s * 0.01, 0.001 / 8];
  close(got, want, 'small llama3');
  close(got, llama3(plain(8, 10000), sc), 'small llama3 (rule)');
  assert.ok(got[2] > 0.01 / 8 && got[2] < 0.01, 'the blended frequency lies between its two limits');

  // Llama 3.1's own parameters: all three bands are populated.
  const sc31 = { kind: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 };
  const base = plain(128, 500000);
  const bands = base.map((f) => { const w = 2 * Math.PI / f; return w < 2048 ? 'high' : w > 8192 ? 'low' : 'mid'; });
  for (const b of ['high', 'mid', 'low']) assert.ok(bands.includes(b), `band ${b} is hit`);
  close(ropeInvFreq({ rotDim: 128, theta: 500000, scaling: sc31 }), llama3(base, sc31), 'llama 3.1');
});

test('GGUF rope_freqs factors divide each frequency', () => {
  const freqFactors = new Float32Array([1, 2, 4, 8]);
  close(ropeInvFreq({ rotDim: 8, theta: 10000, freqFactors }), [1, 0.05, 0.0025, 0.000125], 'factors');
  close(ropeInvFreq({ rotDim: 8, theta: 10000, freqFactors, scaling: { kind: 'linear', factor: 2 } }),
    [0.5, 0.025, 0.00125, 0.0000625], 'factors with linear scaling');
});

test('bad arguments raise InvalidArgumentError naming the field', () => {
  const cases = [
    [{ rotDim: 7, theta: 10000 }, /rotDim/],
    [{ rotDim: 0, theta: 10000 }, /rotDim/],
    [{ rotDim: 8, theta: 0 }, /theta/],
    [{ rotDim: 8, theta: NaN }, /theta/],
    [{ rotDim: 8, theta: 10000, scaling: { kind: 'linear', factor: 0 } }, /scaling\.factor/],
    [{ rotDim: 8, theta: 10000, freqFactors: new Float32Array(3) }, /freqFactors\.length/],
    [{ rotDim: 8, theta: 10000, freqFactors: new Float32Array([1, 1, 0, 1]) }, /freqFactors\[2\]/],
    [{ rotDim: 8, theta: 10000, scaling: { kind: 'llama3', factor: 8, lowFreqFactor: 4, highFreqFactor: 1, originalContext: 8192 } }, /highFreqFactor/],
    [{ rotDim: 8, theta: 10000, freqFactors: new Float32Array(4).fill(1),
      scaling: { kind: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 } }, /freqFactors/],
  ];
  for (const [opts, field] of cases) {
    assert.throws(() => ropeInvFreq(opts), (e) => e instanceof InvalidArgumentError && field.test(e.message), JSON.stringify(opts.scaling ?? opts));
  }
});
