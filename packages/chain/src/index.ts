export { type BuildJobChainInput, type BuiltJobChain, buildJobChain, DEFAULT_MAX_JOBS } from './build.js';
export {
  ArgPatternError,
  ArgTypeError,
  ChainBuildError,
  type ErrorContext,
  JobCreateError,
  JobFactoryError,
  MissingArgError,
  NotARequestError,
  StaticArgError,
  TooManyJobsError,
  UndeclaredArgError,
  UnknownRequestTypeError,
} from './errors.js';
export { JobIdGenerator } from './job-id.js';
export { type ResolvedArgs, requestSequence, resolveRequestArgs, secretArgNames } from './request-args.js';
export { isRequestId, newRequestId, requestIdTime } from './request-id.js';
