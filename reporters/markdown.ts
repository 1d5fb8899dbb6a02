import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the markdown output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/markdown.ts']
export class MarkdownSummaryReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['markdown'] });
  }
}

export default MarkdownSummaryReporter;
