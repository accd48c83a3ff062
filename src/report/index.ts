/** The run report: model, builder, renderers and run-directory I/O. */
export type * from './types.js';
export { reportSchemaVersion } from './types.js';
export { buildRunReport } from './build.js';
export type { CompletionReport, ReportInput } from './build.js';
export { renderMarkdown } from './markdown.js';
export type { RenderOptions } from './markdown.js';
export { renderJson } from './json.js';
export { renderHtml } from './html.js';
export {
  findRepoWithRuns,
  loadReportInput,
  loadRunReport,
  markdownReportName,
  resolveRunDir,
  writeMarkdownReport,
} from './load.js';
export type { RunDirLookup } from './load.js';
