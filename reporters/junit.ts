import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the junit output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/junit.ts']
export class JUnitPropertiesReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['junit'] });
  }
}

export default JUnitPropertiesReporter;
