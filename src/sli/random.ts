// Seeded pseudo-random numbers so that bootstrap intervals — and therefore verdicts —
// are reproducible run to run. Statistical quality, not cryptographic.

/** mulberry32: 32-bit state, period 2^32; returns uniforms in the open interval (0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u32 = (t ^ (t >>> 14)) >>> 0;
    // +0.5 keeps the result off 0 and 1, so log(u) and u^(1/k) are always finite.
    return (u32 + 0.5) / 4294967296;
  };
}

/** Standard normal via Box–Muller (one of the pair; simplicity over speed). */
export function normal(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) for shape >= 1, Marsaglia & Tsang (2000) squeeze-rejection. */
export function gamma(rng: () => number, shape: number): number {
  if (!(shape >= 1)) throw new RangeError(`gamma shape must be >= 1, got ${shape}`);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rng);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) for a, b >= 1 as G_a / (G_a + G_b). */
export function beta(rng: () => number, a: number, b: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, b));
}
