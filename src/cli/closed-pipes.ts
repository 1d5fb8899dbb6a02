// A reader that went away (`kube-sli ab … | tee log`, then tee killed; a CI runner whose log
// pipe closed) makes the next write to stdout or stderr fail with EPIPE, and Node ends the
// process on that unhandled stream error: in the middle of a run, without its teardown, so
// a lab would stay up. Output to a closed pipe is lost either way; the clean-up must not be.
export function survivePipeClose(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const s of streams) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}
