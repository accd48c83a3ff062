/**
 * Ports for dev and test servers: each worktree slot gets its own block of `span` ports
 * (`MAESTRO_PORT` … `MAESTRO_PORT + span - 1`), so agents running side by side, and the gates, never
 * bind the same port. Slot 0 is the integration worktree (gates and the baseline); stream slots
 * are 1…n. The base is a run of free loopback ports found when the run starts, journaled so that a
 * resumed run hands out the same ports.
 */
import { createServer } from 'node:net';

/** Ports per slot. */
export const portSpan = 10;

/** The first port of a slot's block. */
export function portOf(base: number, slot: number, span = portSpan): number {
  return base + slot * span;
}

/** True when nothing listens on `port` on the loopback interface (we could bind it). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** True when every port of `[base, base + count)` is free. */
export async function isBlockFree(base: number, count: number): Promise<boolean> {
  for (let p = base; p < base + count; p += 1) if (!(await isPortFree(p))) return false;
  return true;
}

/**
 * A base port with `count` free ports from it, in the unprivileged range below the usual ephemeral
 * range (Linux hands out 32768–60999 to outgoing connections, so a block there could be taken at
 * any moment). `preferred` (the journaled base on resume) is kept when still free.
 */
export async function findFreePortBlock(count: number, preferred?: number): Promise<number> {
  if (preferred !== undefined && (await isBlockFree(preferred, count))) return preferred;
  const low = 20_000;
  const high = 32_000 - count;
  for (let tries = 0; tries < 200; tries += 1) {
    // Aligned to 100, so the numbers are easy to read in a log; random, so two runs rarely collide.
    const base = low + Math.floor((Math.random() * (high - low)) / 100) * 100;
    if (await isBlockFree(base, count)) return base;
  }
  throw new Error(`no block of ${String(count)} free ports found between ${String(low)} and ${String(high)}`);
}
