// Rows of repacked (x4) matrices read back to f32 give the bits of the file-layout row decoders on the same
// weights, for every row of groups full and partial (row counts 1, 6, 37) and several blocks a row.
import { repack_q4_0x4, repack_q8_0x4, repack_q4_kx4, repack_q5_kx4, repack_q6_kx4, x4_bytes } from '../../assembly/repack_x4';
import { dequant_row_q4_0x4, dequant_row_q8_0x4, dequant_row_q4_kx4, dequant_row_q5_kx4, dequant_row_q6_kx4 } from '../../assembly/dequant_x4';
import { dequant_row_q8_0 } from '../../assembly/dequant';
import { dequant_row_q4_0, dequant_row_q4_k, dequant_row_q5_k, dequant_row_q6_k } from '../../assembly/dequant_quants';
import { Q8_0, Q4_0, Q4_K, Q5_K, Q6_K } from '../../assembly/types';
import { isK, rowBytes, fillWeights } from './weight_cases';

function repack(kind: i32, src: usize, dst: usize, rows: i32, cols: i32): void {
  if (kind == Q8_0) repack_q8_0x4(src, dst, rows, cols);
  else if (kind == Q4_0) repack_q4_0x4(src, dst, rows, cols);
  else if (kind == Q4_K) repack_q4_kx4(src, dst, rows, cols);
  else if (kind == Q5_K) repack_q5_kx4(src, dst, rows, cols);
  else repack_q6_kx4(src, dst, rows, cols);
}

function fileRow(kind: i32, row: usize, dst: usize, n: i32): void {
  if (kind == Q8_0) dequant_row_q8_0(row, dst, n);
  else if (kind == Q4_0) dequant_row_q4_0(row, dst, n);
  else if (kind == Q4_K) dequant_row_q4_k(row, dst, n);
  else if (kind == Q5_K) dequant_row_q5_k(row, dst, n);
  else dequant_row_q6_k(row, dst, n);
}

function x4Row(kind: i32, group: usize, r: i32, dst: usize, n: i32): void {
  if (kind == Q8_0) dequant_row_q8_0x4(group, r, dst, n);
  else if (kind == Q4_0) dequant_row_q4_0x4(group, r, dst, n);
  else if (kind == Q4_K) dequant_row_q4_kx4(group, r, dst, n);
  else if (kind == Q5_K) dequant_row_q5_kx4(group, r, dst, n);
  else dequant_row_q6_kx4(group, r, dst, n);
}

/** Values whose bits differ between the two decoders over every row of a rows x (blocks blocks) matrix. */
function mismatches(kind: i32, rows: i32, blocks: i32): i32 {
  const cols = blocks * (isK(kind) ? 256 : 32), rb = <usize>rowBytes(kind, cols);
  const w = heap.alloc(<usize>rows * rb), x4 = heap.alloc(x4_bytes(kind, rows, cols));
  const a = heap.alloc(<usize>cols << 2), b = heap.alloc(<usize>cols << 2);
  fillWeights(kind, w, rows, cols);
  repack(kind, w, x4, rows, cols);
  let bad = 0;
  for (let r = 0; r < rows; r++) {
    fileRow(kind, w + <usize>r * rb, a, cols);
    // group r >> 2 starts after the x4 bytes of the rows before it
    x4Row(kind, x4 + x4_bytes(kind, r & ~3, cols), r & 3, b, cols);
    for (let i = 0; i < cols; i++) if (load<u32>(a + (<usize>i << 2)) != load<u32>(b + (<usize>i << 2))) bad++;
  }
  heap.free(w); heap.free(x4); heap.free(a); heap.free(b);
  return bad;
}

function allRows(kind: i32): i32 {
  return mismatches(kind, 1, 2) + mismatches(kind, 6, 3) + mismatches(kind, 37, 1);
}

describe('dequant_row of x4 matrices equals the file layout, bit for bit', () => {
  it('Q8_0x4', () => { expect(allRows(Q8_0)).toBe(0); });
  it('Q4_0x4', () => { expect(allRows(Q4_0)).toBe(0); });
  it('Q4_Kx4', () => { expect(allRows(Q4_K)).toBe(0); });
  it('Q5_Kx4', () => { expect(allRows(Q5_K)).toBe(0); });
  it('Q6_Kx4', () => { expect(allRows(Q6_K)).toBe(0); });
});
