#!/usr/bin/env node
// `kube-sli gc` with the arguments given (this checkout's CLI, through bin/kube-sli.js):
//   node scripts/gc.mjs [--kubeconfig PATH] [--session ID | --all] [--stale 60s] [--dry-run]
// Its exit code is gc's: 0 done, 2 bad flags or no cluster configured, 3 cluster errors.
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

const bin = fileURLToPath(new URL('../bin/kube-sli.js', import.meta.url));
const r = await $({ stdio: 'inherit', nothrow: true, verbose: false })`${process.execPath} ${bin} gc ${process.argv.slice(2)}`;
process.exitCode = r.exitCode ?? 3;
