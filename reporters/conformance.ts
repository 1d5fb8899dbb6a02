import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the conformance output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/conformance.ts']
export class ConformanceReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['conformance'] });
  }
}

export default ConformanceReporter;
