import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// The charting library inlined into every HTML report, so the page works offline and from
// a CI artifact: uPlot (MIT, ~51 kB minified, canvas, no dependencies, no network).
// Why uPlot: it is the smallest of the well-kept libraries (Chart.js ~200 kB, ECharts
// ~1 MB), draws tens of thousands of points in milliseconds, and does log scales and
// custom axes (the "nines" quantile axis) out of the box.

export interface ChartAssets {
  script: string;
  css: string;
  license: string;
  version: string;
}

let cached: ChartAssets | undefined;

/** uPlot's IIFE build, CSS and license, read once from node_modules. */
export function chartAssets(): ChartAssets {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    const js = require.resolve('uplot/dist/uPlot.iife.min.js');
    const read = (rel: string) => readFileSync(new URL(rel, pathToFileURL(js)), 'utf8');
    const pkg = JSON.parse(read('../package.json')) as { version: string };
    cached = {
      // "</script" cannot occur inside an inline script.
      script: readFileSync(js, 'utf8').replace(/<\/script/gi, '<\\/script'),
      css: read('./uPlot.min.css'),
      license: read('../LICENSE'),
      version: pkg.version,
    };
  }
  return cached;
}
