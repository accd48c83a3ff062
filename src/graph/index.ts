/** The graph stage: a DAG over string ids, cycle detection, waves, critical path and schedulers. */
export * from './dag.js';
export * from './schedule.js';
export { MinHeap } from './heap.js';
