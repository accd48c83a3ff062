#!/usr/bin/env node
// Entry point for the `maestro` / `plan-maestro` bins.
import { main } from './cli/main.js';

// A reader that stops early (`maestro analyze plan.md --json | head`) closes the pipe: that is the
// reader's choice, not a failure, so end quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
