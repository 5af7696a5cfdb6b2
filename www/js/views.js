// What shows a run's results: the timeline, the event log, the queues, the
// printed output, the stacks, the causes and the metrics. The page needs
// none of it before Run is possible, so main.js fetches it as a chunk of
// its own right after boot (a Run clicked before it is there waits for it).

export { Timeline } from './timeline.js';
export { EventLog } from './event-log.js';
export { renderQueues, OutputView } from './panels.js';
export { StackView } from './stacks.js';
export { causesOf } from './causes.js';
export { renderMetrics } from './metrics-view.js';
