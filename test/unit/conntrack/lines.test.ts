import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/conntrack/lines.js';
import { classifyStderrLine } from '../../../src/conntrack/collector.js';
import { fixture, fixtureLines } from './helpers.js';

describe('LineSplitter', () => {
  it('splits across chunk boundaries and returns the unterminated tail', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    s.push('ab');
    s.push('c\nde');
    s.push(Buffer.from('f\n\ng\nhi'));
    expect(got).toEqual(['abc', 'def', '', 'g']);
    expect(s.end()).toBe('hi');
    expect(s.end()).toBe('');
  });

  it('reassembles a multi-byte character split between chunks', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    const b = Buffer.from('µs\n');
    s.push(b.subarray(0, 1));
    s.push(b.subarray(1));
    expect(got).toEqual(['µs']);
  });

  it('gives back the recorded file line by line, whatever the chunking', () => {
    const text = fixture('events.txt');
    for (const size of [1, 7, 4096]) {
      const got: string[] = [];
      const s = new LineSplitter((l) => got.push(l));
      const buf = Buffer.from(text);
      for (let i = 0; i < buf.length; i += size) s.push(buf.subarray(i, i + size));
      expect(s.end()).toBe('');
      expect(got).toEqual(fixtureLines('events.txt'));
    }
  });
});

describe('classifyStderrLine on recorded conntrack stderr', () => {
  it('counts the ENOBUFS overruns of the -b 4096 burst and reads the summary', () => {
    const kinds = fixtureLines('overrun.stderr').map(classifyStderrLine);
    expect(kinds.filter((k) => k.kind === 'overrun')).toHaveLength(13);
    expect(kinds.filter((k) => k.kind === 'overrun-detail')).toHaveLength(26);
    expect(kinds[0]).toEqual({ kind: 'ready', bufferBytes: 8192 });
    expect(kinds.at(-1)).toEqual({ kind: 'summary', events: Number(fixture('overrun-lines.count').trim()) });
    expect(kinds.filter((k) => k.kind === 'other')).toHaveLength(0);
  });

  it('reads the normal start/stop lines and keeps anything else', () => {
    expect(fixtureLines('events.txt.stderr').map(classifyStderrLine)).toEqual([
      { kind: 'ready', bufferBytes: 16777216 },
      { kind: 'summary', events: 37 },
    ]);
    expect(classifyStderrLine('mnl_socket_bind: Operation not permitted')).toEqual({
      kind: 'other',
      text: 'mnl_socket_bind: Operation not permitted',
    });
  });
});
