// Moved to src/core/context.ts; this re-export only lets parallel branches merge. Import from '../context'.
export { quietContext, subContext, type JobContext } from '../context';
