// `npm run bench`: every benchmark, side by side in one run. Exit 1 when a target is missed.
import { benchAdversarial } from './adversarial.mjs';
import { benchAnalyze } from './analyze.mjs';
import { benchQueue } from './queue.mjs';
import { benchRun } from './run-engine.mjs';

const analyzeOk = await benchAnalyze();
console.log('');
const adversarialOk = await benchAdversarial();
console.log('');
const runOk = await benchRun();
console.log('');
const queueOk = await benchQueue();
process.exitCode = analyzeOk && adversarialOk && runOk && queueOk ? 0 : 1;
