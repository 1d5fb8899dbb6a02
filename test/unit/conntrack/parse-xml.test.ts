import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseXmlLine } from '../../../src/conntrack/parse-xml.js';
import { fixtureEvents, fixtureLines, ID } from './helpers.js';

const lines = fixtureLines('events.xml');
const destroyOf = (id: number): string => lines.find((l) => l.startsWith('<flow type="destroy"') && l.includes(`<id>${id}</id>`))!;

function err(line: string): ParseError {
  const r = parseXmlLine(line);
  expect(r).toBeInstanceOf(ParseError);
  return r as ParseError;
}

describe('parseXmlLine on recorded output (-o xml,timestamp,id,ktimestamp)', () => {
  it('parses an IPv6 DESTROY with ns kernel times, counters, <when> and the trailer exactly', () => {
    expect(parseXmlLine(destroyOf(ID.tcp6))).toEqual({
      type: 'DESTROY',
      id: ID.tcp6,
      l3: 'ipv6',
      proto: 'tcp',
      original: { src: { addr: 'fd00:1::2', port: 41824 }, dst: { addr: 'fd00:10:96::10', port: 80 } },
      reply: { src: { addr: 'fd00:10:244:1::2', port: 8080 }, dst: { addr: 'fd00:1::2', port: 41824 } },
      origCounters: { packets: 6, bytes: 540 },
      replyCounters: { packets: 5, bytes: 7368 },
      tcpState: 'TIME_WAIT',
      timeout: 119,
      seenReply: true,
      assured: true,
      kernelStartNs: 1795259979094435014n,
      kernelStopNs: 1795259980811398211n,
      kernelTimeResolutionNs: 1,
      recvNs: 1795259980000000000n, // <when> 11:19:40 UTC, whole seconds
      recvResolutionNs: 1_000_000_000,
      userspace: true, // ` [USERSPACE] portid=…` after </flow>
    });
  });

  it('parses the refused flow (mark, unreplied, kernel-initiated DESTROY)', () => {
    const ev = parseXmlLine(destroyOf(ID.refused));
    expect(ev).toMatchObject({
      tcpState: 'CLOSE',
      mark: 42,
      seenReply: false,
      kernelStartNs: 1795259978999259482n,
      kernelStopNs: 1795259978999340212n,
      origCounters: { packets: 1, bytes: 60 },
    });
    expect((ev as { userspace?: boolean }).userspace).toBeUndefined();
  });

  it('parses a UDP NEW with zone and no state', () => {
    const ev = parseXmlLine(lines.find((l) => l.startsWith('<flow type="new"') && l.includes(`<id>${ID.udp4}</id>`))!);
    expect(ev).toMatchObject({ type: 'NEW', proto: 'udp', zone: 7, timeout: 30, seenReply: false });
    expect((ev as { tcpState?: string }).tcpState).toBeUndefined();
  });

  it('returns null for the framing lines', () => {
    expect(lines[0]).toBe('<?xml version="1.0" encoding="utf-8"?>');
    expect(parseXmlLine(lines[0]!)).toBeNull();
    expect(parseXmlLine('<conntrack>')).toBeNull();
    expect(parseXmlLine('</conntrack>')).toBeNull();
    expect(parseXmlLine('')).toBeNull();
  });

  it('agrees with the text recording of the same session, event by event', () => {
    const xml = fixtureEvents('events.xml');
    const text = fixtureEvents('events.txt');
    expect(xml).toHaveLength(37);
    const strip = (e: (typeof xml)[number]) => ({
      type: e.type,
      id: e.id,
      l3: e.l3,
      proto: e.proto,
      state: e.tcpState,
      original: e.original,
      reply: e.reply,
      seenReply: e.seenReply,
      assured: e.assured,
      orig: e.origCounters,
      rep: e.replyCounters,
      mark: e.mark,
      zone: e.zone,
      userspace: e.userspace,
    });
    expect(xml.map(strip)).toEqual(text.map(strip));
  });

  it('has no kernel <timestamp> without ktimestamp', () => {
    const ev = fixtureEvents('events-no-ktimestamp.xml');
    expect(ev).toHaveLength(37);
    expect(ev.filter((e) => e.kernelStartNs !== undefined)).toHaveLength(0);
    expect(ev.filter((e) => e.origCounters !== undefined)).toHaveLength(7);
  });
});

describe('parseXmlLine on bad input (never throws)', () => {
  const good = destroyOf(ID.tcp5000);
  it('truncated line', () => {
    expect(err(good.slice(0, 400)).reason).toBe('unterminated <flow>');
  });
  it('missing id', () => {
    expect(err(good.replace(/<id>\d+<\/id>/, '')).reason).toBe('missing id');
  });
  it('garbage and broken fields', () => {
    expect(err('garbage').reason).toBe('not a <flow> element');
    expect(err(good.replace('type="destroy"', 'type="boom"')).reason).toBe('unknown flow type "boom"');
    expect(err(good.replace('<sport>39044</sport>', '<sport>x</sport>')).reason).toBe('original: bad port');
    expect(err(good.replace('<meta direction="reply">', '<meta direction="other">')).reason).toBe('missing reply tuple');
    expect(err(good.replace('<start>', '<start>1x')).reason).toBe('bad <timestamp>');
    expect(err(good.replace('<year>2026</year>', '<year></year>')).reason).toBe('bad <when>');
  });
});
