// Makes the CLI entry executable after tsc (tsc does not keep the mode bit).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
