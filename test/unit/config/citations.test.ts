// What the kit cites, a reader can open: no private design notes, numbered seeds or issue
// numbers in code, docs or the profiles' origins (which go into every report).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, PROFILE_NAMES } from '../../../src/config/profiles.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const DIRS = ['src', 'fixtures', 'suites', 'reporters', 'scripts', 'bench', 'test', 'dashboards', 'docs'];
const UNOPENABLE = /DESIGN\.md|DESIGN §|\bseed 00\d|\bissue #\d+/;

function files(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (/\.(ts|js|json|md|sh)$/.test(name)) out.push(p);
  }
  return out;
}

describe('citations', () => {
  it('code, docs and the README cite nothing a reader cannot open', () => {
    const self = new URL(import.meta.url).pathname;
    const all = [...DIRS.flatMap((d) => files(join(ROOT, d))), join(ROOT, 'README.md')].filter((f) => f !== self);
    const hits = all.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (UNOPENABLE.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
  it.each(PROFILE_NAMES)('profile %s: every origin names its source (no bare "the talk")', (name) => {
    for (const slo of Object.values(loadProfile(name))) {
      expect(slo.origin, slo.sli).not.toMatch(UNOPENABLE);
      if (/\btalk\b/.test(slo.origin)) expect(slo.origin, slo.sli).toContain('"From Observability to Performance"');
    }
  });
});
