// A small line splitter for conntrack's stdout: faster than node:readline (no events, no
// async iterator per line) and explicit about the last, unterminated fragment — a line cut
// off when conntrack dies must be counted as malformed, not parsed into a wrong id.
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (text.length === 0) return;
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      this.rest += text;
      return;
    }
    if (this.rest.length > 0) {
      this.onLine(this.rest + text.substring(0, nl));
      this.rest = '';
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      this.onLine(text.substring(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) this.rest = text.substring(start);
  }

  /** Ends the input; returns the unterminated trailing fragment ('' when the input ended with a newline). */
  end(): string {
    const tail = this.rest + this.decoder.end();
    this.rest = '';
    return tail;
  }
}
