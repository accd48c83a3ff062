// `npm run bench`: every benchmark, side by side in one run. Exit 1 when a target is missed.
import { benchAdversarial } from './adversarial.mjs';
import { benchAnalyze } from './analyze.mjs';
import { benchQueue } from './queue.mjs';
import { benchRun } from './run-engine.mjs';
import { benchSetup } from './setup.mjs';

const analyzeOk = await benchAnalyze();
console.log('');
const adversarialOk = await benchAdversarial();
console.log('');
const runOk = await benchRun();
console.log('');
const queueOk = await benchQueue();
console.log('');
const setupOk = await benchSetup();
process.exitCode = analyzeOk && adversarialOk && runOk && queueOk && setupOk ? 0 : 1;
