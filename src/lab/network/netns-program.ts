// Starts one of the kit's own TypeScript programs inside a network namespace, with an IPC
// channel to this process: `ip netns exec <ns> node --import <tsx loader> <program>.ts`,
// the way bin/kube-sli.js runs the kit from source. The loader is passed by path: a bare
// `--import tsx` would be resolved from the child's working directory, not from the kit.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** file: URL of tsx's ESM loader, resolved from the kit's own node_modules */
export function tsxLoaderUrl(): string {
  return pathToFileURL(require.resolve('tsx')).href;
}

/** argv that runs the program module `url` (e.g. new URL('./x-main.ts', import.meta.url)) in `netns`. */
export function netnsProgramArgv(netns: string, url: URL): string[] {
  return ['ip', 'netns', 'exec', netns, process.execPath, '--import', tsxLoaderUrl(), fileURLToPath(url)];
}

/**
 * Spawns the program with stdin/stdout ignored, stderr piped (for error messages) and an
 * IPC channel; `config` reaches it as JSON in the environment variable `configEnv`.
 */
export function spawnNetnsProgram(netns: string, url: URL, configEnv: string, config: unknown): ChildProcess {
  const [file, ...args] = netnsProgramArgv(netns, url);
  return spawn(file!, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, [configEnv]: JSON.stringify(config) },
  });
}

/** True when the module at `metaUrl` is the program node was started with. */
export function isMainModule(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && metaUrl === pathToFileURL(entry).href;
}
