// Bounded buffer of flow records for readers that poll with a cursor. Memory stays flat
// however long the agent runs; when a reader falls behind, what it missed is counted and
// reported, never silently skipped.

export interface FlowPage<T> {
  records: T[];
  /** pass as `since` next time */
  next: number;
  /** records that fell out of the buffer before this reader got them */
  missed: number;
}

export class FlowBuffer<T> {
  private readonly ring: (T | undefined)[];
  private written = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`flow buffer capacity ${capacity} must be a positive integer`);
    this.ring = new Array<T | undefined>(capacity);
  }

  push(record: T): void {
    this.ring[this.written % this.capacity] = record;
    this.written++;
  }

  get total(): number {
    return this.written;
  }

  /** Records with sequence number >= since, at most `limit`. */
  read(since: number, limit = 10_000): FlowPage<T> {
    const oldest = Math.max(0, this.written - this.capacity);
    const from = Math.max(since, oldest);
    const missed = Math.max(0, oldest - since);
    const to = Math.min(this.written, from + limit);
    const records: T[] = [];
    for (let i = from; i < to; i++) records.push(this.ring[i % this.capacity] as T);
    return { records, next: to, missed };
  }
}
