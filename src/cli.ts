#!/usr/bin/env node
// Entry point for the `maestro` / `plan-maestro` bins.
import { main } from './cli/main.js';

process.exitCode = await main(process.argv);
