import { KubeSliReporter, type KubeSliReporterOptions } from './kube-sli.js';

// vitest reporter writing only the html output of kube-sli (see kube-sli.ts).
//   reporters: ['default', './reporters/html.ts']
export class HtmlReportReporter extends KubeSliReporter {
  constructor(options: Omit<KubeSliReporterOptions, 'formats'> = {}) {
    super({ ...options, formats: ['html'] });
  }
}

export default HtmlReportReporter;
