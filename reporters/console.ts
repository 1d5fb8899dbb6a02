import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the console output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/console.ts']
export class ConsoleSummaryReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['console'] });
  }
}

export default ConsoleSummaryReporter;
