import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StateError,
  defaultStateDir,
  emptyState,
  readLabState,
  removeStateDir,
  stateLayout,
  updateLabState,
  writeLabState,
} from '../../../src/lab/state.js';

describe('defaultStateDir', () => {
  it('prefers KUBE_SLI_LAB_DIR, then /var/lib for root, then XDG_STATE_HOME / ~/.local/state', () => {
    expect(defaultStateDir({ KUBE_SLI_LAB_DIR: '/x' }, 0)).toBe('/x');
    expect(defaultStateDir({}, 0)).toBe('/var/lib/kube-sli/lab');
    expect(defaultStateDir({ XDG_STATE_HOME: '/s' }, 1000)).toBe('/s/kube-sli/lab');
    expect(defaultStateDir({}, 1000)).toMatch(/\.local\/state\/kube-sli\/lab$/);
  });
});

describe('lab.json', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'ksli-state-')), 'lab');
  });
  afterEach(async () => rm(join(dir, '..'), { recursive: true, force: true }));

  it('is absent before the first write and round-trips after', async () => {
    expect(await readLabState(dir)).toBeUndefined();
    const s = { ...emptyState(), ports: { apiserver: 6443 }, netns: ['ksli-n1'] };
    await writeLabState(dir, s);
    expect(await readLabState(dir)).toEqual(s);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('serialises concurrent read-modify-write updates', async () => {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        updateLabState(dir, (s) => {
          s.links.push(`link${i}`);
        }),
      ),
    );
    expect((await readLabState(dir))?.links).toHaveLength(25);
  });

  it('refuses garbage and unknown versions with a clear error', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'lab.json'), '{not json');
    await expect(readLabState(dir)).rejects.toThrow(StateError);
    await writeFile(join(dir, 'lab.json'), JSON.stringify({ version: 99 }));
    await expect(readLabState(dir)).rejects.toThrow(/version 99/);
  });

  it('removeStateDir removes only what the lab put there', async () => {
    const l = stateLayout(dir);
    await writeLabState(dir, emptyState());
    for (const d of [l.pki, l.logs, l.etcdData, l.kubeconfigs]) await mkdir(d, { recursive: true });
    await writeFile(join(l.pki, 'ca.crt'), 'x');
    await removeStateDir(dir);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);

    await writeLabState(dir, emptyState());
    await writeFile(join(dir, 'someone-elses.txt'), 'keep me');
    await removeStateDir(dir);
    expect(await readdir(dir)).toEqual(['someone-elses.txt']);
    expect(await readFile(join(dir, 'someone-elses.txt'), 'utf8')).toBe('keep me');
    await removeStateDir(join(dir, 'does-not-exist'));
  });
});
