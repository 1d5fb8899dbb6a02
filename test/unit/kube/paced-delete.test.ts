// The page size of a paced collection delete: each request should take about
// CHUNK_PACE.targetSeconds at the pace the API server showed in the last one.
import { describe, expect, it } from 'vitest';
import { CHUNK_PACE, nextChunkSize } from '../../../src/kube/paced-delete.js';

describe('nextChunkSize', () => {
  it('aims the next request at targetSeconds at the last request\'s pace', () => {
    // 100 Services in 2 s: 50/s, 10 s worth is 500, but at most double the last page
    expect(nextChunkSize(100, 2)).toBe(200);
    expect(nextChunkSize(400, 20)).toBe(200); // 20/s → 200 in 10 s
    expect(nextChunkSize(300, 12)).toBe(250);
  });

  it('grows at most twofold per request: one fast page proves little', () => {
    expect(nextChunkSize(100, 0.1)).toBe(200);
    expect(nextChunkSize(100, 0)).toBe(200);
  });

  it('halves after a failed request', () => {
    expect(nextChunkSize(1000, undefined)).toBe(500);
  });

  it('stays within [min, max]', () => {
    expect(nextChunkSize(CHUNK_PACE.min, undefined)).toBe(CHUNK_PACE.min);
    expect(nextChunkSize(30, 300)).toBe(CHUNK_PACE.min); // 0.1/s
    expect(nextChunkSize(CHUNK_PACE.max, 1)).toBe(CHUNK_PACE.max);
  });

  it('from the first page, reaches a steady page at a steady pace', () => {
    // a server deleting 120 Services/s: pages grow to ~1,200 (10 s) and stay there
    let chunk: number = CHUNK_PACE.first;
    const sizes: number[] = [];
    for (let i = 0; i < 8; i++) {
      chunk = nextChunkSize(chunk, chunk / 120);
      sizes.push(chunk);
    }
    expect(sizes).toEqual([200, 400, 800, 1200, 1200, 1200, 1200, 1200]);
  });
});
