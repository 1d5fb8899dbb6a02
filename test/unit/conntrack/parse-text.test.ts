import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import { fixtureEvents, fixtureLines, ID } from './helpers.js';

const lines = fixtureLines('events.txt');

function err(line: string): ParseError {
  const r = parseTextLine(line);
  expect(r).toBeInstanceOf(ParseError);
  return r as ParseError;
}

describe('parseTextLine on recorded output (-o timestamp,id,extended)', () => {
  it('parses a NEW exactly', () => {
    expect(parseTextLine(lines[0]!)).toEqual({
      type: 'NEW',
      recvNs: 1795259978712876000n,
      recvResolutionNs: 1000,
      id: ID.tcp5000,
      l3: 'ipv4',
      proto: 'tcp',
      timeout: 120,
      tcpState: 'SYN_SENT',
      original: { src: { addr: '10.0.1.2', port: 39044 }, dst: { addr: '10.96.0.10', port: 80 } },
      reply: { src: { addr: '10.244.1.2', port: 8080 }, dst: { addr: '10.0.1.2', port: 39044 } },
      seenReply: false,
      assured: false,
    });
  });

  it('parses a DESTROY with counters and the [USERSPACE] trailer exactly', () => {
    const line = lines.find((l) => l.includes('[DESTROY]') && l.includes(`id=${ID.tcp5000}`))!;
    expect(parseTextLine(line)).toEqual({
      type: 'DESTROY',
      recvNs: 1795259980716102000n,
      recvResolutionNs: 1000,
      id: ID.tcp5000,
      l3: 'ipv4',
      proto: 'tcp',
      timeout: 118,
      tcpState: 'TIME_WAIT',
      original: { src: { addr: '10.0.1.2', port: 39044 }, dst: { addr: '10.96.0.10', port: 80 } },
      reply: { src: { addr: '10.244.1.2', port: 8080 }, dst: { addr: '10.0.1.2', port: 39044 } },
      origCounters: { packets: 5, bytes: 368 },
      replyCounters: { packets: 5, bytes: 5268 },
      seenReply: true,
      assured: true,
      userspace: true,
    });
  });

  it('parses the refused flow: mark, [UNREPLIED] on DESTROY, kernel-initiated', () => {
    const ev = parseTextLine(lines.find((l) => l.includes('[DESTROY]') && l.includes(`id=${ID.refused}`))!);
    expect(ev).toMatchObject({
      type: 'DESTROY',
      tcpState: 'CLOSE',
      mark: 42,
      seenReply: false,
      assured: false,
      origCounters: { packets: 1, bytes: 60 },
      replyCounters: { packets: 1, bytes: 40 },
      reply: { src: { addr: '10.244.1.2', port: 8081 } },
    });
    expect((ev as { userspace?: boolean }).userspace).toBeUndefined();
  });

  it('parses IPv6 and UDP (no state; DESTROY without timeout; zone)', () => {
    const events = fixtureEvents('events.txt');
    const v6 = events.find((e) => e.id === ID.tcp6 && e.type === 'NEW')!;
    expect(v6.l3).toBe('ipv6');
    expect(v6.original).toEqual({ src: { addr: 'fd00:1::2', port: 41824 }, dst: { addr: 'fd00:10:96::10', port: 80 } });
    expect(v6.reply.src).toEqual({ addr: 'fd00:10:244:1::2', port: 8080 });
    const udpDestroy = events.find((e) => e.id === ID.udp4 && e.type === 'DESTROY')!;
    expect(udpDestroy.tcpState).toBeUndefined();
    expect(udpDestroy.timeout).toBe(29);
    expect(udpDestroy.zone).toBe(7);
    expect(udpDestroy.proto).toBe('udp');
    const udp6Destroy = events.find((e) => e.id === ID.udp6 && e.type === 'DESTROY')!;
    expect(udp6Destroy.replyCounters).toEqual({ packets: 1, bytes: 108 });
  });

  it('parses every recorded line: 7 NEW, 23 UPDATE, 7 DESTROY', () => {
    const events = fixtureEvents('events.txt');
    expect(events).toHaveLength(37);
    const count = (t: string): number => events.filter((e) => e.type === t).length;
    expect([count('NEW'), count('UPDATE'), count('DESTROY')]).toEqual([7, 23, 7]);
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
  });

  it('reads whole-second kernel start/stop from -o ktimestamp (UTC)', () => {
    const events = fixtureEvents('events-ktimestamp.txt');
    const d = events.find((e) => e.id === ID.tcp5000 && e.type === 'DESTROY')!;
    expect(d.kernelStartNs).toBe(1795259978000000000n); // [start=Sat Nov 21 11:19:38 2026]
    expect(d.kernelStopNs).toBe(1795259980000000000n);
    expect(d.kernelTimeResolutionNs).toBe(1_000_000_000);
    expect(d.id).toBe(ID.tcp5000); // id= after [start=…] [stop=…]
    expect(d.userspace).toBe(true); // `[USERSPACE] portid=… progname=conntrack`
    expect(events.filter((e) => e.kernelStartNs !== undefined)).toHaveLength(7);
  });
});

describe('parseTextLine variants', () => {
  it('accepts output without timestamp and without extended', () => {
    const ev = parseTextLine(
      '    [NEW] tcp      6 120 SYN_SENT src=10.0.1.2 dst=10.96.0.10 sport=1 dport=80 [UNREPLIED] src=10.244.1.2 dst=10.0.1.2 sport=8080 dport=1 id=5',
    );
    expect(ev).toMatchObject({ type: 'NEW', l3: 'ipv4', proto: 'tcp', id: 5, tcpState: 'SYN_SENT' });
    expect((ev as { recvNs?: bigint }).recvNs).toBeUndefined();
    const v6 = parseTextLine('[UPDATE] udp      17 30 src=fd00::1 dst=fd00::2 sport=1 dport=2 src=fd00::2 dst=fd00::1 sport=2 dport=1 id=6');
    expect(v6).toMatchObject({ l3: 'ipv6', type: 'UPDATE', seenReply: true, timeout: 30 });
  });

  it('takes the conntrack id, not the ICMP tuple id', () => {
    const ev = parseTextLine(
      '[1700000000.123456]\t    [NEW] ipv4     2 icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=4242 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=4242 mark=0 use=1 id=99',
    );
    expect(ev).toMatchObject({ id: 99, proto: 'icmp', recvNs: 1700000000123456000n });
    expect((ev as { original: { src: { port: number } } }).original.src.port).toBe(0);
    // without -o id only the ICMP tuple ids are there: that is not a conntrack id
    const noId = parseTextLine(
      '[NEW] icmp 1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=4242 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=4242',
    );
    expect((noId as ParseError).reason).toBe('missing id');
  });

  it('handles CRLF and unknown flags/keys', () => {
    const ev = parseTextLine(`${lines[0]!} [OFFLOAD] secctx=x labels=0x1 use=1\r`);
    expect(ev).toMatchObject({ id: ID.tcp5000, type: 'NEW' });
  });

  it('returns null for blank lines', () => {
    expect(parseTextLine('')).toBeNull();
    expect(parseTextLine('   \t ')).toBeNull();
  });
});

describe('parseTextLine on bad input (never throws)', () => {
  it('truncated line: reply tuple missing', () => {
    const line = lines[0]!;
    expect(err(line.slice(0, line.indexOf('[UNREPLIED]'))).reason).toBe('missing reply tuple');
  });
  it('truncated line: reply ports missing', () => {
    const line = lines[0]!;
    expect(err(line.slice(0, line.indexOf('sport=8080'))).reason).toBe('missing ports');
  });
  it('missing id (output without -o id)', () => {
    expect(err(lines[0]!.replace(/ id=\d+$/, '')).reason).toBe('missing id');
  });
  it('garbage', () => {
    expect(err('hello world').reason).toMatch(/^unknown event type/);
    expect(err('[1795259978.712876]\t').reason).toBe('timestamp without event');
    expect(err('[1795259978.71x876]\t    [NEW] tcp 6').reason).toBe('bad timestamp');
    expect(err('[17952599').reason).toBe('unterminated timestamp');
    expect(err('[NEW]').reason).toBe('missing protocol');
    expect(err('[NEW] tcp 6 120 SYN_SENT src=1.2.3.4 dst=1.2.3.5 sport=99999 dport=1').reason).toBe('bad sport=');
    expect(err('[NEW] tcp 6 120 SYN_SENT src=1.2.3.4 what').reason).toMatch(/^unexpected token/);
    expect(err(lines[0]!.replace('id=1128957441', 'id=12x')).reason).toBe('bad id=');
  });
  it('keeps at most 300 characters of the line', () => {
    expect(err(`x${'y'.repeat(1000)}`).line.length).toBe(301);
  });
});
