// The entry of the `synack/browser` bundle (dist/browser/synack.js, built by
// scripts/build-browser.mjs with esbuild): the browser-clean core (stack, simulation,
// trace, renderers, scenarios) plus running a scenario with sysctl overrides, drops and
// TCB snapshots. One ES module, no imports, no Node built-ins.
export * from './core.js';
export { runScenario, addDrop, parseSysctl, ordinals, LAB_SYSCTLS } from './scenarios/index.js';
export type { RunSetup, ScenarioRun, TcbSnapshot, HostSnapshot, LabSysctl, Text, Lang } from './scenarios/index.js';
export { buildDiagram, formatTime } from './trace/diagram.js';
export type { Diagram, DiagramItem, SegmentItem } from './trace/diagram.js';
