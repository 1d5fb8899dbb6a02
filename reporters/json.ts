import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the json output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/json.ts']
export class JsonReportReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['json'] });
  }
}

export default JsonReportReporter;
