export { type BuildJobChainInput, type BuiltJobChain, buildJobChain } from './build.js';
export {
  ArgTypeError,
  ChainBuildError,
  type ErrorContext,
  JobCreateError,
  JobFactoryError,
  MissingArgError,
  NotARequestError,
  StaticArgError,
  UndeclaredArgError,
  UnknownRequestTypeError,
} from './errors.js';
export { JobIdGenerator } from './job-id.js';
export { type ResolvedArgs, requestSequence, resolveRequestArgs } from './request-args.js';
export { isRequestId, newRequestId, requestIdTime } from './request-id.js';
