#!/usr/bin/env node
/**
 * The `pycstore` command (package.json's bin): sizes libuv's thread pool, then
 * runs the CLI (cli.ts). A CommonJS file, so that nothing has started the pool
 * yet: Node reads an ES module entry through the pool, which starts it at its
 * default 4 threads before the module's first line runs.
 *
 * Why 16: a dedup run keeps hundreds of links, renames, lstats and object
 * writes in flight through the pool, and while a durability barrier (syncfs)
 * flushes the store, some of them wait in the kernel for the filesystem's
 * journal; with 4 threads, four such waits stall all the others. Measured on
 * a first run of the uv corpus: ×1.1 faster wall, less CPU (README, Measured).
 * A value the user set is kept. `node dist/cli.js` (scheduled jobs, a program
 * using the library) runs with whatever pool its process has.
 */
process.env['UV_THREADPOOL_SIZE'] ??= '16';
void import('./cli.js');
