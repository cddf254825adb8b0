// node --import ./test/helpers/trace-imports.mjs …: appends every module URL the process loads
// to the file named by DBDRILL_TRACE_IMPORTS (one per line), to prove what a command imports.
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url, { data: { file: process.env.DBDRILL_TRACE_IMPORTS } });
