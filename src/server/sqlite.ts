import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);

/**
 * The SQLite binding. better-sqlite3 12 wraps its objects in node::ObjectWrap, which on Node 24 aborts the
 * process at exit (Statement finalizers call RemoveEnvironmentCleanupHook after the environment is gone:
 * "Assertion failed: (env) != nullptr", exit 134). Version 13 moved to Node-API and ships a prebuilt binary
 * in the package, but needs Node >= 22 and crashes on 20. So each Node gets the one that works on it:
 * 13 (installed under the alias better-sqlite3-napi) from 22 on, 12 (built from source) on 20.
 * Both have the same API.
 */
export const Database: typeof BetterSqlite3 = require(major >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3') as typeof BetterSqlite3;
