// The lab's images, as every node imports them: each archive holds its canonical
// reference, and the kit image is the repository's Dockerfile (its sha256 is on the image,
// and the image's history carries the Dockerfile's own steps).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findBinaries, repoRoot } from '../../src/lab/binaries.js';
import { ensureLabImages } from '../../src/lab/images/build.js';
import { AGNHOST_IMAGE, KIT_IMAGE, PAUSE_IMAGE } from '../../src/lab/images/refs.js';
import { labSkipReason } from './support/ports.js';

async function archiveConfig(archive: string): Promise<{ tags: string[]; config: { config?: { Labels?: Record<string, string>; Entrypoint?: string[] }; history?: { created_by?: string }[] } }> {
  const manifest = JSON.parse((await execa('tar', ['-xOf', archive, 'manifest.json'])).stdout) as { Config: string; RepoTags: string[] }[];
  const m = manifest[0]!;
  const config = JSON.parse((await execa('tar', ['-xOf', archive, m.Config])).stdout) as { config?: { Labels?: Record<string, string>; Entrypoint?: string[] }; history?: { created_by?: string }[] };
  return { tags: m.RepoTags, config };
}

describe.skipIf(labSkipReason !== undefined)('lab images', () => {
  it('hold their canonical references, and the kit image is the repository Dockerfile', async () => {
    const bins = await findBinaries();
    const images = await ensureLabImages({ agnhostPath: bins.agnhost! });
    expect(images.map((i) => i.ref).sort()).toEqual([AGNHOST_IMAGE, KIT_IMAGE, PAUSE_IMAGE].sort());
    for (const img of images) expect((await archiveConfig(img.archive)).tags).toEqual([img.ref]);

    const kit = (await archiveConfig(images.find((i) => i.role === 'kit')!.archive)).config;
    const dockerfile = await readFile(join(repoRoot(), 'Dockerfile'), 'utf8');
    expect(kit.config?.Labels?.['io.kube-sli.dockerfile.sha256']).toBe(createHash('sha256').update(dockerfile).digest('hex'));
    expect(kit.config?.Entrypoint).toEqual(['kube-sli']);
    const history = (kit.history ?? []).map((h) => h.created_by ?? '').join('\n');
    expect(history).toContain('kube-sli version');
    expect(history).toContain('apt-get install');

    const pause = (await archiveConfig(images.find((i) => i.role === 'pause')!.archive)).config;
    expect(pause.config?.Entrypoint).toEqual(['/agnhost', 'pause']);
  }, 20 * 60_000);
});
