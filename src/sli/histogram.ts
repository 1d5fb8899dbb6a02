import * as hdr from 'hdr-histogram-js';

// A mergeable streaming latency histogram for millions of samples in bounded memory.
//
// Values are recorded as integer nanoseconds in an HdrHistogram with 3 significant digits
// over 1 ns .. 1 h: every recorded value keeps a relative error ≤ 0.1% (we report bucket
// midpoints, so ≤ 0.05%), in ~34k counters (~270 kB) whatever the sample count.
// Counters are Float64 (bitBucketSize 64) so counts stay exact up to 2^53; Int32 counters
// would wrap silently past 2^31 in a long soak.
//
// Pure JS (useWebAssembly: false) on purpose: the WASM build needs an async (or explicit
// sync) init before first use and must be destroy()ed by hand, because its memory is
// outside the garbage collector — a leak waiting to happen in fixtures that create
// histograms per test. The JS path records several million values/s (2M in ~0.3 s
// here), far above any collector's rate.
//
// Out-of-range values never throw (a collector must not crash on one odd timestamp):
// negative values (clock steps) are clamped to 0 and counted as underflow, values above
// 1 h (and +Infinity) are clamped to 1 h and counted as overflow, NaN is counted as
// rejected and not recorded. Exact min, max and sum are tracked beside the histogram.

const NS_PER_S = 1e9;
const LOWEST_NS = 1;
const HIGHEST_NS = 3600 * NS_PER_S;
const ENCODING_PREFIX = 'h1';

function newHdr(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_NS,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

// hdr-histogram-js's public Histogram interface lacks the bucket helpers; the JS classes have them.
type JsHdr = hdr.Histogram & { medianEquivalentValue(value: number): number };

export class LatencyHistogram {
  /** Largest recordable value in seconds; larger values are clamped to it. */
  static readonly highestSeconds = HIGHEST_NS / NS_PER_S;

  private hist: JsHdr = newHdr() as JsHdr;
  private sumSeconds = 0;
  private minNs = Infinity;
  private maxNs = -Infinity;
  private underflowCount = 0;
  private overflowCount = 0;
  private rejectedCount = 0;

  /** Record one latency (or `count` identical ones) given in seconds. */
  record(seconds: number, count = 1): void {
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new RangeError(`record count must be a positive integer, got ${count}`);
    }
    if (Number.isNaN(seconds)) {
      this.rejectedCount += count;
      return;
    }
    let ns = Math.round(seconds * NS_PER_S);
    if (ns < 0) {
      ns = 0;
      this.underflowCount += count;
    } else if (ns > HIGHEST_NS) {
      ns = HIGHEST_NS;
      this.overflowCount += count;
    }
    if (count === 1) this.hist.recordValue(ns);
    else this.hist.recordValueWithCount(ns, count);
    this.sumSeconds += (ns / NS_PER_S) * count;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** Add all of `other` into this histogram (other is unchanged). Returns this. */
  merge(other: LatencyHistogram): this {
    this.hist.add(other.hist);
    this.sumSeconds += other.sumSeconds;
    this.minNs = Math.min(this.minNs, other.minNs);
    this.maxNs = Math.max(this.maxNs, other.maxNs);
    this.underflowCount += other.underflowCount;
    this.overflowCount += other.overflowCount;
    this.rejectedCount += other.rejectedCount;
    return this;
  }

  /** Recorded values, including clamped ones; excludes rejected NaNs. */
  get count(): number {
    return this.hist.totalCount;
  }
  /** Values below 0 that were recorded as 0. */
  get underflow(): number {
    return this.underflowCount;
  }
  /** Values above highestSeconds that were recorded as highestSeconds. */
  get overflow(): number {
    return this.overflowCount;
  }
  /** NaN values, not recorded. */
  get rejected(): number {
    return this.rejectedCount;
  }
  /** Exact (to the ns) smallest recorded value in seconds; NaN when empty. */
  get min(): number {
    return this.count === 0 ? NaN : this.minNs / NS_PER_S;
  }
  get max(): number {
    return this.count === 0 ? NaN : this.maxNs / NS_PER_S;
  }
  /** Exact mean of the recorded (clamped) values; NaN when empty. */
  get mean(): number {
    return this.count === 0 ? NaN : this.sumSeconds / this.count;
  }

  /**
   * Quantile in seconds, q in [0, 1]. HdrHistogram picks the bucket holding rank ⌈q·n⌉;
   * we return that bucket's midpoint (halving the worst-case error of its upper edge),
   * clamped to the exact min/max so that q=0 and q=1 are exact. NaN when empty.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) {
      throw new RangeError(`quantile q must be a number in [0, 1], got ${q}`);
    }
    if (this.count === 0) return NaN;
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    const bucketValue = this.hist.getValueAtPercentile(q * 100);
    const mid = this.hist.medianEquivalentValue(bucketValue);
    return Math.min(this.maxNs, Math.max(this.minNs, mid)) / NS_PER_S;
  }

  reset(): void {
    this.hist.reset();
    this.sumSeconds = 0;
    this.minNs = Infinity;
    this.maxNs = -Infinity;
    this.underflowCount = 0;
    this.overflowCount = 0;
    this.rejectedCount = 0;
  }

  /**
   * Compact text form for shipping from an agent: a small header with the exact side
   * statistics, then HdrHistogram's standard compressed V2 base64 encoding (readable by
   * other HdrHistogram implementations).
   */
  encode(): string {
    const header = [
      ENCODING_PREFIX,
      this.underflowCount,
      this.overflowCount,
      this.rejectedCount,
      this.sumSeconds,
      this.count === 0 ? 0 : this.minNs,
      this.count === 0 ? 0 : this.maxNs,
    ].join(':');
    return `${header}:${hdr.encodeIntoCompressedBase64(this.hist)}`;
  }

  static decode(encoded: string): LatencyHistogram {
    const parts = encoded.trim().split(':');
    if (parts.length !== 8 || parts[0] !== ENCODING_PREFIX) {
      throw new Error(
        `not an encoded LatencyHistogram (expected "${ENCODING_PREFIX}:" and 8 ":"-separated fields): ${encoded.slice(0, 40)}`,
      );
    }
    const nums = parts.slice(1, 7).map(Number);
    if (nums.some((x) => !Number.isFinite(x) || x < 0)) {
      throw new Error(`corrupt LatencyHistogram header: ${parts.slice(0, 7).join(':')}`);
    }
    const [underflow, overflow, rejected, sum, minNs, maxNs] = nums as [number, number, number, number, number, number];
    const decoded = hdr.decodeFromCompressedBase64(parts[7] as string, 64, false) as JsHdr;
    const h = new LatencyHistogram();
    // Re-add into our own layout so merges stay on the fast path whatever the encoder used.
    h.hist.add(decoded);
    h.underflowCount = underflow;
    h.overflowCount = overflow;
    h.rejectedCount = rejected;
    h.sumSeconds = sum;
    if (h.count > 0) {
      h.minNs = minNs;
      h.maxNs = maxNs;
    }
    return h;
  }
}
