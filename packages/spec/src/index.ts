export { argPatternProblem, argPatternRegExp } from './arg-pattern.js';
export { BUILTIN_NOOP_SEQUENCE, isBuiltinNoopSequence, sequenceExists } from './builtins.js';
export { checkSpecs } from './check.js';
export { type CliIo, runCli } from './cli-run.js';
export { isValidDuration } from './duration.js';
export {
  type FormatOptions,
  formatDiagnostic,
  formatHuman,
  type JsonDiagnostic,
  type JsonReport,
  toJsonReport,
} from './format.js';
export { graphChecks } from './graph-checks.js';
export { jobTypeChecks, lintDirWithJobs } from './job-types.js';
export {
  type LintOptions,
  type LintResult,
  lintDir,
  lintDirSync,
  lintLoaded,
  sortDiagnostics,
} from './lint.js';
export {
  findSpecFiles,
  findSpecFilesSync,
  isSpecFile,
  type LoadResult,
  loadSpecs,
  loadSpecsSync,
  loadSpecTexts,
} from './load.js';
export type {
  AclSpec,
  ArgSpec,
  Diagnostic,
  EachSpec,
  NodeArg,
  NodeCategory,
  NodeRaw,
  NodeSet,
  NodeSpec,
  RawNodeArg,
  RawNodeSet,
  SequenceSpec,
  Severity,
  SourcePos,
  SpecSet,
} from './model.js';
export { type ParsedFile, parseSpecFile } from './parse-yaml.js';
export { LOCK_MODES } from './request-keys-checks.js';
export { ACL_OPS } from './sequence-checks.js';
export { staticChecks } from './static-checks.js';
export { type TopoResult, topologicalOrder, topologicalSort } from './topo.js';
